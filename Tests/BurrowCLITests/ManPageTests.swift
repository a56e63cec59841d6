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

    /// Subcommands too: `volume create` has burrow-volume-create.1.
    @Test(arguments: CLI.visibleCommandTree.map(\.name))
    func everyCommandHasAPageWithEveryFlag(name: String) throws {
        let spec = try #require(CLI.visibleCommandTree.first { $0.name == name })
        let text = try page(spec.manPage)
        #expect(text.contains(".TH \(spec.manPage.uppercased()) 1"), "\(spec.manPage).1 has no .TH line naming it")
        for option in spec.options { #expect(text.contains("--\(option.long)"), "\(spec.manPage).1 lacks --\(option.long)") }
        for alias in spec.aliases { #expect(text.contains(alias), "\(spec.manPage).1 does not mention the alias \(alias)") }
    }

    /// A group's page names each of its subcommands' pages, and the tree has them all.
    @Test func everyGroupPageNamesItsSubcommands() throws {
        let groups = CLI.commands.compactMap { $0 as? any CommandGroup.Type }
        for group in groups {
            let text = try page(group.spec.manPage)
            for member in group.visibleSubcommands {
                #expect(text.contains(member.manPage), "\(group.spec.manPage).1 does not mention \(member.manPage)")
                #expect(CLI.visibleCommandTree.contains { $0.name == member.name })
            }
        }
    }
}
