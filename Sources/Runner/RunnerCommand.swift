// Placeholder entry point: the batch inference job arrives with issue 3.
@main
struct RunnerCommand {
    static func main() {
        print("runner: not built yet")
    }
}
