import Testing

@testable import Runner

struct CostModelTests {
    /// Issue 3's acceptance number: 45 ms at 0.5 cores and 0.5 GB, $0.04 and $0.005 per hour.
    @Test func perRecordCostMatchesTheAcceptanceFigure() {
        let model = CostModel(cpuPerHour: 0.04, memoryGBPerHour: 0.005)
        let cost = model.cost(cores: 0.5, memoryGB: 0.5, seconds: 0.045)
        #expect(abs(cost - 2.8125e-7) < 1e-18)
        #expect(cost < 0.0001 / 100)  // the lab's "≈ $0.0001" is off by more than two orders of magnitude
    }

    @Test func jobCostUsesTheLargerOfRequestAndUsage() {
        let model = CostModel(cpuPerHour: 0.04, memoryGBPerHour: 0.005)
        let allocation = ResourceAllocation(
            cpuCores: 0.5, memoryBytes: 512 * 1_048_576, cpuRequestCores: 0.25, memoryRequestBytes: 256 * 1_048_576, cpuSource: "env", memorySource: "env")
        // 0.4 cores used on average beats the 0.25 request; 0.1 GB used loses to the 0.25 GB request.
        let cost = model.jobCost(allocation: allocation, cpuSecondsUsed: 1440, peakMemoryGB: 0.1, wallSeconds: 3600)
        #expect(abs(cost.allocatedCores - 0.4) < 1e-12)
        #expect(abs(cost.allocatedMemoryGB - 0.25) < 1e-12)
        #expect(abs(cost.usd - (0.4 * 0.04 + 0.25 * 0.005)) < 1e-12)
    }
}
