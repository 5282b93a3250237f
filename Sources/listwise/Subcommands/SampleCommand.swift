// `listwise sample`: writes a deterministic synthetic county (four CSVs).
import ArgumentParser
import Foundation
import ListwiseKit

extension SampleOrder: ExpressibleByArgument {}

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate a synthetic county: properties, owners, prospects and events CSVs.",
        discussion: """
            Writes DIR/properties.csv, owners.csv, prospects.csv and events.csv. The same --seed and --properties always give the same files. Streams: memory does not grow with --properties (--order date|shuffled: one month of events, or 1/256 of a file).

            Example:
              listwise sample --properties 15000 --seed 42 --out Data/sample
            """
    )

    @Option(help: "Number of properties.") var properties: Int = 15_000
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: ArgumentHelp("Output folder (created if missing).", valueName: "dir")) var out: String
    @Option(help: ArgumentHelp("Order of events, owners and prospects: property (as generated), date (as county and MLS feeds arrive; prospects shuffled) or shuffled.",
                               valueName: "order"))
    var order: SampleOrder = .property

    func validate() throws {
        guard properties > 0 else { throw ValidationError("--properties must be at least 1") }
    }

    func run() throws {
        var settings = SampleSettings(properties: properties, seed: seed)
        settings.order = order
        let counts = try SampleGenerator(settings: settings).write(to: out) { done in
            Terminal.progress("generating: \(done.grouped) of \(properties.grouped) properties")
        }
        Terminal.endProgress()
        Terminal.line("wrote \(out): \(counts.properties.grouped) properties, \(counts.owners.grouped) owners, "
                      + "\(counts.prospects.grouped) prospects, \(counts.events.grouped) events")
    }
}
