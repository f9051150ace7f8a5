import ArgumentParser
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The entry point. `collector [run] --config FILE…`, the command line of every deployment, starts the collector
/// without swift-argument-parser's command tree: building it (reflection over every command's property wrappers,
/// each first dynamic cast scanning all ~12,000 protocol-conformance records of the binary) was about 21 M
/// instructions, a fifth of start-up (bench/profiles/collector-protobuf-startup.txt). Every other command line —
/// help, `--version`, `validate`, `components`, mistakes — goes to `CollectorCommand`, which gives the lines the
/// fast path takes the same meaning (CommandLineTests compares the two).
@main
enum CollectorMain {
    /// Synchronous on purpose: an `async` main parks the main thread in `dispatch_main()`, which ends it with
    /// `pthread_exit`, and that forced unwind reads the unwind tables of the frames below it (≈ 1 MiB of
    /// `.eh_frame_hdr`/`.eh_frame` pages resident for good; in a statically linked executable, libgcc first sorts every
    /// FDE of the binary: 6 MiB). Here the main thread waits for the run on the global executor and exits with it.
    static func main() {
        guard let paths = RunArguments.configPaths(CommandLine.arguments.dropFirst()) else {
            // Help, validate, mistakes: swift-argument-parser's async entry point, which may need the main actor,
            // so the main thread serves the main queue.
            Task { @MainActor in
                await CollectorCommand.main()
                exit(0)
            }
            dispatchMain()
        }
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                try await RunCommand.run(configPaths: paths)
            } catch {
                CollectorCommand.exit(withError: error)
            }
            finished.signal()
        }
        finished.wait()
    }
}

/// Recognises `[run] (--config FILE | --config=FILE)…`; anything else is left to swift-argument-parser (nil).
enum RunArguments {
    /// The names a value must not be, so the line cannot read differently to swift-argument-parser.
    private static let subcommandNames: Set<String> = ["run", "validate", "components", "help"]

    static func configPaths(_ arguments: ArraySlice<String>) -> [String]? {
        var rest = arguments
        if rest.first == "run" { rest.removeFirst() }
        var paths: [String] = []
        while let argument = rest.popFirst() {
            let value: String
            if argument == "--config" {
                guard let next = rest.popFirst() else { return nil }
                value = next
            } else if argument.hasPrefix("--config=") {
                value = String(argument.dropFirst("--config=".count))
            } else {
                return nil
            }
            guard !value.isEmpty, !value.hasPrefix("-"), !subcommandNames.contains(value) else { return nil }
            paths.append(value)
        }
        return paths.isEmpty ? nil : paths
    }
}
