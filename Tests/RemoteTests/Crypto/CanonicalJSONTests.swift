import MCPGenKit
import MCPGenRemote
import Testing

@Suite("canonical JSON")
struct CanonicalJSONTests {
  func canonical(_ text: String) throws -> String {
    String(decoding: try CanonicalJSON.encode(try JSON(parsing: Array(text.utf8))), as: UTF8.self)
  }

  @Test("keys sorted, no white space, integers")
  func basic() throws {
    #expect(try canonical(#"{ "b": 1, "a": [ true, false, null, -5 ], "c": {} }"#) == #"{"a":[true,false,null,-5],"b":1,"c":{}}"#)
  }

  @Test("only quote and backslash are escaped; control characters and unicode stay raw")
  func escapes() throws {
    #expect(try canonical(#"["a\"b\\c\/d\n\u0001é\u00e9"]"#) == "[\"a\\\"b\\\\c/d\n\u{01}éé\"]")
  }

  @Test("keys sort by code point, not UTF-16 unit: U+FFFF before U+1F600")
  func codePointOrder() throws {
    #expect(try canonical(#"{"\ud83d\ude00":1,"\uffff":2,"z":3,"Z":4,"é":5}"#) == "{\"Z\":4,\"z\":3,\"é\":5,\"\u{FFFF}\":2,\"😀\":1}")
  }

  @Test("a string that is not UTF-8 and a repeated key are refused")
  func refusals() throws {
    #expect(throws: CanonicalJSON.EncodingError.self) { try CanonicalJSON.encode(.string([0x61, 0xFF])) }
    #expect(throws: CanonicalJSON.EncodingError.self) { try CanonicalJSON.encode(.object([("a", .int(1)), ("a", .int(2))])) }
  }

  /// Inputs python-tuf must agree with byte for byte.
  static let tricky: [String] = [
    #"{"signed":{"_type":"root","version":1,"keys":{},"roles":{"root":{"keyids":[],"threshold":1}}},"signatures":[]}"#,
    #"{"é":"\u00e9","e":"\"","E":"\\","\u0000x":"a\u0001\u001fb","\t":"\n\r","/":"\/"}"#,
    #"{"\ud83d\ude00":[1,-2,0,9007199254740993],"\uffff":{"b":{"a":{}}},"\u0080":[],"~":null}"#,
    #"[[[[["deep",{"z":{"y":[true,false]}}]]]],"",{}]"#,
    #"{"custom":{"channels":["stable","beta"],"label":"1.2.3 (ü)","size":123456789012}}"#,
  ]

  @Test("bytes equal securesystemslib's encode_canonical for tricky inputs", .enabled(if: PythonPeer.available, "needs python-tuf (scripts/python-tuf.sh)"))
  func matchesSecuresystemslib() throws {
    let program = """
      import sys, json
      from securesystemslib.formats import encode_canonical
      sys.stdout.buffer.write(encode_canonical(json.loads(sys.stdin.buffer.read())).encode("utf-8"))
      """
    for text in Self.tricky {
      let theirs = try PythonPeer.script(program, input: Array(text.utf8))
      let ours = try CanonicalJSON.encode(try JSON(parsing: Array(text.utf8)))
      #expect(ours == theirs, "\(text)")
    }
  }
}
