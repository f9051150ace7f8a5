import Foundation
import Tracing

/// The model the job runs on each record. Runs inside the record's span: implementations may open
/// child spans with swift-distributed-tracing's `withSpan`.
protocol InferenceModel: Sendable {
    /// The number of features the model takes, or nil when any count is fine (the sum).
    var featureCount: Int? { get }
    func predict(_ features: [Double]) -> Double
    /// Whether `predict` may look at the current `InstrumentationContext` (to open child spans); when false the job
    /// does not bind the record's span as the current context around it. True unless a model says otherwise.
    var readsContext: Bool { get }
}

extension InferenceModel {
    var readsContext: Bool { true }
}

/// The lab's model: the sum of the features.
struct SumModel: InferenceModel {
    var featureCount: Int? { nil }
    var readsContext: Bool { false }

    func predict(_ features: [Double]) -> Double {
        features.reduce(0, +)
    }
}

/// A linear model from `MODEL_PATH`: `weights · features + bias`, optionally through a sigmoid.
struct LinearModel: InferenceModel, Decodable, Equatable {
    var weights: [Double]
    var bias: Double
    var activation: Activation

    enum Activation: String, Decodable, Sendable {
        case none
        case sigmoid
    }

    var featureCount: Int? { weights.count }
    var readsContext: Bool { false }

    init(weights: [Double], bias: Double = 0, activation: Activation = .none) {
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        weights = try container.decode([Double].self, forKey: .weights)
        bias = try container.decodeIfPresent(Double.self, forKey: .bias) ?? 0
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? .none
    }

    private enum CodingKeys: String, CodingKey {
        case weights, bias, activation
    }

    func predict(_ features: [Double]) -> Double {
        var sum = bias
        for (weight, feature) in zip(weights, features) { sum += weight * feature }
        switch activation {
        case .none: return sum
        case .sigmoid: return 1 / (1 + exp(-sum))
        }
    }

    /// Loads `MODEL_PATH`; any problem is a `ConfigurationError` naming it.
    static func load(path: String) throws(ConfigurationError) -> LinearModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(setting: "MODEL_PATH", message: "cannot read \"\(path)\"")
        }
        do {
            let model = try JSONDecoder().decode(LinearModel.self, from: data)
            guard !model.weights.isEmpty else { throw ConfigurationError(setting: "MODEL_PATH", message: "\"\(path)\" has no weights") }
            return model
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(setting: "MODEL_PATH", message: "\"\(path)\" is not {\"weights\": [numbers], \"bias\": number, \"activation\": \"sigmoid\"|\"none\"}")
        }
    }
}
