@testable import BurrowDockerfile
import Testing

struct DockerIgnoreTests {
    static let cases: [(String, String, Bool)] = [
        ("*.pyc", "app.pyc", true),
        ("*.pyc", "sub/app.pyc", false),
        ("**/*.pyc", "sub/deep/app.pyc", true),
        ("**/*.pyc", "app.pyc", true),
        ("node_modules", "node_modules/a/b.js", true),
        ("/build", "build/out", true),
        ("./secret.txt", "secret.txt", true),
        ("*.md\n!README.md", "README.md", false),
        ("*.md\n!README.md", "CHANGES.md", true),
        ("!README.md\n*.md", "README.md", true),
        ("docs\n!docs/keep.txt", "docs/keep.txt", false),
        ("docs\n!docs/keep.txt", "docs/other.txt", true),
        ("# comment\n\n  tmp  ", "tmp/x", true),
        ("file?.txt", "file1.txt", true),
        ("file[0-9].txt", "filea.txt", false),
        ("file[^0-9].txt", "filea.txt", true),
        ("a/**/b", "a/b", true),
        ("a/**/b", "a/x/y/b", true),
        ("*", "anything/at/all", true),
    ]

    @Test(arguments: cases)
    func lastMatchingRuleDecides(patterns: String, path: String, excluded: Bool) {
        #expect(DockerIgnore(patterns).excludes(path) == excluded)
    }

    @Test func exceptionsBelowAnExcludedDirectoryKeepItWalked() {
        let ignore = DockerIgnore("docs\n!docs/keep.txt")
        #expect(ignore.mayIncludeBelow("docs"))
        #expect(!ignore.mayIncludeBelow("other"))
        #expect(!DockerIgnore("docs").mayIncludeBelow("docs"))
    }
}
