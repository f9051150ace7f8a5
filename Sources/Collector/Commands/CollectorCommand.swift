import ArgumentParser
import Logging
import Shared

/// `collector`: the OpenTelemetry collector of the batch-inference lab, configured by an upstream-
/// compatible `collector.yaml`. The entry point is `CollectorMain`.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "An OpenTelemetry collector: OTLP/HTTP in, batch, debug output on stdout.",
        discussion: """
            Runs with `collector --config collector.yaml` (repeatable: later files merge over earlier ones; \
            maps merge, lists are replaced). `${env:VAR}`, `${VAR}` and `${env:VAR:-default}` expand in values; \
            `$$` is a literal `$`.
            """,
        version: BuildInfo.version,
        subcommands: [RunCommand.self, ValidateCommand.self, ComponentsCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// What `--version` and `components` report.
enum BuildInfo {
    static let command = "collector"
    static let description = "Swift OpenTelemetry Collector for the batch-inference lab"
    static let version = "0.1.0"
}

/// The `--config` option shared by `run` and `validate`.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("A configuration file (repeatable; later ones merge over earlier ones).", valueName: "file"))
    var paths: [String] = []

    /// Loads the configuration, or prints every problem as `Error: <prefix><problem>` and exits 1.
    func load(errorPrefix: String) throws -> ConfigLoader.Loaded {
        try Self.load(paths: paths, errorPrefix: errorPrefix)
    }

    static func load(paths: [String], errorPrefix: String) throws -> ConfigLoader.Loaded {
        do {
            return try ConfigLoader().load(paths: paths)
        } catch {
            for problem in error.errors {
                LogOutput.standardError.write("Error: \(errorPrefix)\(problem)\n")
            }
            throw ExitCode(1)
        }
    }
}

/// `collector validate --config …`: decodes, validates and builds the pipeline graph without binding
/// any port. Silent with exit 0 when valid; `Error: …` lines and exit 1 otherwise.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a configuration without starting anything.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let loaded = try options.load(errorPrefix: "")
        do {
            var silent = Logger(label: "validate")
            silent.logLevel = .critical
            _ = try PipelineGraph(config: loaded.config, context: .init(logger: silent))
        } catch {
            LogOutput.standardError.write("Error: \(error)\n")
            throw ExitCode(1)
        }
    }
}

/// `collector components`: the served component types, as upstream's YAML listing.
struct ComponentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "components", abstract: "List the receivers, processors, exporters and extensions this collector serves.")

    func run() throws {
        print(Self.yaml(), terminator: "")
    }

    static func yaml() -> String {
        var out = "buildinfo:\n    command: \(BuildInfo.command)\n    description: \(BuildInfo.description)\n    version: \(BuildInfo.version)\n"
        for kind in ComponentKind.allCases {
            let factories = ComponentFactory.all.filter { $0.kind == kind }.sorted { $0.type < $1.type }
            if factories.isEmpty {
                out += "\(kind.configKey): []\n"
                continue
            }
            out += "\(kind.configKey):\n"
            for factory in factories {
                out += "    - name: \(factory.type)\n      module: \(factory.module)\n      stability:\n"
                for signal in [Signal.logs, .metrics, .traces] {
                    if let level = factory.stability[signal] { out += "        \(signal.rawValue): \(level.rawValue)\n" }
                }
                if let level = factory.extensionStability { out += "        extension: \(level.rawValue)\n" }
            }
        }
        out += "connectors: []\n"
        return out
    }
}

