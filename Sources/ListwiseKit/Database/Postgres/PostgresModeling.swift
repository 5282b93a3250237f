// Training and evaluation on a PostgreSQL store: the features come from the server, the
// fitting is the same code as on SQLite (`Training`).
import Foundation

extension PostgresStore {
    public func trainModel(_ settings: TrainingSettings, progress: ((String) -> Void)? = nil) async throws -> TrainingResult {
        let started = Date()
        let plan = try TrainingPlan(settings, dataEnd: try await lastEventDay())
        progress?("building features for \(plan.asOfDays.map(DayNumber.iso).joined(separator: ", "))")
        let rows = try TrainingRows()
        do {
            try await inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
                try await self.streamFeatures(plan.featureSettings(settings), on: connection, chunkRows: settings.featureChunkRows) { chunk in
                    try rows.append(chunk)
                    progress?("features (\(plan.asOfDays.count) snapshots): \(rows.count) rows")
                }
            }
        } catch {
            throw describe(error)
        }
        let features = TrainingPhase(name: "features", seconds: Date().timeIntervalSince(started))
        var result = try Training.fit(rows, plan: plan, settings: settings, progress: progress)
        result.phases.insert(features, at: 0)
        return result
    }

    public func evaluateModel(_ model: LikelyToSellModel, asOfDay: Int?, marketRates: MarketRates = .standard) async throws -> ModelMetrics {
        try await evaluateModels([model], asOfDay: asOfDay, marketRates: marketRates)[0]
    }

    public func evaluateModels(_ models: [LikelyToSellModel], asOfDay: Int?, marketRates: MarketRates = .standard) async throws -> [ModelMetrics] {
        guard let model = models.first else { return [] }
        let dataEnd = try await lastEventDay()
        let day = try evaluationDay(models, asOfDay: asOfDay, dataEnd: dataEnd)
        let table = try await buildFeatures(FeatureSettings(asOfDays: [day], horizonDays: model.horizonDays, marketRates: marketRates,
                                                            dataEndDay: dataEnd))
        return try Training.evaluate(models, on: table, day: day)
    }
}
