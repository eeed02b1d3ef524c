import MCPGenRemote
import Testing

@Suite("remote fetch errors")
struct FetchErrorTests {
  @Test("a 404 is not the same failure as any other status")
  func notFoundIsItsOwnCase() {
    #expect(FetchError.notFound(url: "u") != FetchError.status(url: "u", code: 404))
  }
}
