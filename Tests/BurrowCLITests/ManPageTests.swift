@testable import BurrowCLI
import Foundation
import Testing

/// Every command has a page in man/, and every long flag it takes is in it.
struct ManPageTests {
    static let manDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("man").path

    /// The page's source with roff's escaped hyphens (\\-) read as hyphens.
    func page(_ name: String) throws -> String {
        try String(contentsOfFile: "\(ManPageTests.manDirectory)/\(name).1", encoding: .utf8)
            .split(separator: "\\-", omittingEmptySubsequences: false).joined(separator: "-")
    }

    @Test func theOverviewNamesEveryCommandAndGlobalOption() throws {
        let overview = try page("burrow")
        for spec in CLI.visibleCommands { #expect(overview.contains("burrow-\(spec.name)"), "burrow.1 does not mention burrow-\(spec.name)") }
        for option in CLI.allGlobalOptions { #expect(overview.contains("--\(option.long)"), "burrow.1 lacks --\(option.long)") }
    }

    @Test(arguments: CLI.visibleCommands.map(\.name))
    func everyCommandHasAPageWithEveryFlag(name: String) throws {
        let spec = try #require(CLI.visibleCommands.first { $0.name == name })
        let text = try page(spec.manPage)
        #expect(text.contains(".TH"))
        for option in spec.options { #expect(text.contains("--\(option.long)"), "\(spec.manPage).1 lacks --\(option.long)") }
    }
}
