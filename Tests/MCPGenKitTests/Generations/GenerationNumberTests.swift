import Foundation
@testable import MCPGenKit
import Testing

/// A new generation's number (store-layout.md section 5): one above the highest the journal
/// mentions, past any name a crashed switch left in `generations/` without a journal line.
@Suite("new generation numbers")
struct GenerationNumberTests {
  @Test("names a crash left above the journal's highest number are passed over, whatever they are")
  func leftoversPassedOver() throws {
    let f = try HistoryTests.Fixture(["A", "B", "C"])
    try f.switchTo("A")
    try f.switchTo("B")
    let generations = f.root.string + "/generations"
    // A link of a switch killed before its journal line, and a damaged entry above it.
    try FileManager.default.createSymbolicLink(atPath: generations + "/3", withDestinationPath: "../store/" + f.keys["C"]!.hex)
    try Data().write(to: URL(fileURLWithPath: generations + "/4"))
    #expect(try f.switchTo("C") == 5)
    #expect(try f.store.generation(5)?.key == f.keys["C"])
    #expect(try f.store.generation(3)?.key == f.keys["C"], "the leftover link was touched")
    // A number the journal mentions stays used after its link is gone (as after a gc).
    #expect(try f.rollback() == 2)
    try FileManager.default.removeItem(atPath: generations + "/5")
    try FileManager.default.removeItem(atPath: generations + "/4")
    try FileManager.default.removeItem(atPath: generations + "/3")
    #expect(try f.switchTo("A") == 6)
  }
}
