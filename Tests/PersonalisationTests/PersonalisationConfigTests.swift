import Foundation
import Personalisation
import Testing
import Training

@Suite struct PersonalisationConfigTests {
    @Test func anEmptyObjectDecodesToTheDefaults() throws {
        let decoded = try JSONDecoder().decode(PersonalisationConfig.self, from: Data("{}".utf8))
        #expect(decoded == PersonalisationConfig())
        let d = PersonalisationConfig()
        #expect(d.epochs == 20 && d.batchSize == 32 && d.optimizer == .sgd && d.learningRate == 0.01)
        #expect(d.supervised && d.selfSupervision && d.distillation && !d.fromScratch)
        #expect(d.temperature == 3 && d.distillationWeight == 0.5 && d.confidenceThreshold == 0)
        #expect(d.memoryBudgetBytes == 2 * 1024 * 1024 * 1024 && d.batchNorm == .eval && d.exits == nil)
        #expect(d.problem == nil)
    }

    @Test func keysRoundTripAndUnknownKeysAreRefused() throws {
        var c = PersonalisationConfig()
        c.optimizer = .adam; c.exits = ["block2"]; c.batchNorm = .train; c.confidenceThreshold = 0.8
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(PersonalisationConfig.self, from: data) == c)
        let partial = try JSONDecoder().decode(PersonalisationConfig.self, from: Data(#"{"epochs": 3, "optimizer": "adam"}"#.utf8))
        #expect(partial.epochs == 3 && partial.optimizer == .adam && partial.batchSize == 32)
        do {
            _ = try JSONDecoder().decode(PersonalisationConfig.self, from: Data(#"{"temprature": 2}"#.utf8))
            Issue.record("a misspelt key decoded")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.contains("temprature") && context.debugDescription.contains("temperature"))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(PersonalisationConfig.self, from: Data(#"{"optimizer": "rmsprop"}"#.utf8))
        }
    }

    @Test func badValuesNameTheirKey() {
        func problem(_ edit: (inout PersonalisationConfig) -> Void) -> String? {
            var c = PersonalisationConfig(); edit(&c); return c.problem
        }
        #expect(problem { $0.epochs = 0 }?.hasPrefix("epochs") == true)
        #expect(problem { $0.batchSize = 1 }?.hasPrefix("batchSize") == true)
        #expect(problem { $0.learningRate = 0 }?.hasPrefix("learningRate") == true)
        #expect(problem { $0.confidenceThreshold = 1.5 }?.hasPrefix("confidenceThreshold") == true)
        #expect(problem { $0.temperature = -1 }?.hasPrefix("temperature") == true)
        #expect(problem { $0.distillationWeight = 1.1 }?.hasPrefix("distillationWeight") == true)
        #expect(problem { $0.exits = ["block1", "block1"] }?.hasPrefix("exits") == true)
        #expect(problem { $0.memoryBudgetBytes = -1 }?.hasPrefix("memoryBudgetBytes") == true)
        #expect(throws: TrainingError.self) { var c = PersonalisationConfig(); c.momentum = 1; try c.validate() }
    }
}
