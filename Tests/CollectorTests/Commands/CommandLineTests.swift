import ArgumentParser
import Testing

@testable import Collector

/// `CollectorMain`'s fast path must read a command line exactly as swift-argument-parser does, or leave it alone.
@Suite("Command line")
struct CommandLineTests {
    /// What swift-argument-parser makes of `arguments`: the run command's config paths, or nil for anything else.
    private func parsed(_ arguments: [String]) -> [String]? {
        guard let command = try? CollectorCommand.parseAsRoot(arguments) as? RunCommand else { return nil }
        return command.options.paths
    }

    @Test(arguments: [
        ["--config", "collector.yaml"],
        ["run", "--config", "collector.yaml"],
        ["--config=collector.yaml"],
        ["run", "--config=/etc/otelcol/config.yaml"],
        ["--config", "a.yaml", "--config", "b.yaml"],
        ["--config", "a.yaml", "--config=b.yaml", "--config", "file:c.yaml"],
        ["--config", "with space.yaml"],
    ])
    func fastPathReadsAsArgumentParser(arguments: [String]) {
        let fast = RunArguments.configPaths(arguments[...])
        #expect(fast != nil)
        #expect(fast == parsed(arguments))
    }

    @Test(arguments: [
        [], ["run"], ["--help"], ["-h"], ["--version"], ["help"], ["validate", "--config", "c.yaml"], ["components"],
        ["--config"], ["--config", "--config"], ["--config", "-x.yaml"], ["--config="], ["--config", ""],
        ["--config", "c.yaml", "extra"], ["--config", "c.yaml", "--help"], ["--config", "run"], ["--configs", "c.yaml"],
        ["run", "run", "--config", "c.yaml"], ["--config", "c.yaml", "run"],
    ])
    func everythingElseGoesToArgumentParser(arguments: [String]) {
        #expect(RunArguments.configPaths(arguments[...]) == nil)
    }
}
