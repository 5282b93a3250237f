// Plain-text rendering of model metrics (train and evaluate print it).
import Foundation

public enum MetricsReport {
    public static func text(_ m: ModelMetrics, title: String) -> String {
        var lines = [title]
        lines.append(String(format: "  rows %d, positives %.0f (%.2f%%), expected %.1f", m.rows, m.positives,
                            m.rows > 0 ? 100 * m.positives / Double(m.rows) : 0, m.expectedPositives))
        lines.append(String(format: "  ROC AUC %.4f   PR AUC %.4f   log loss %.4f   Brier %.4f", m.rocAUC, m.prAUC, m.logLoss, m.brier))
        if let lifts = m.topLift, !lifts.isEmpty {
            lines.append("  lift: " + Metrics.liftPhrase(lifts))
        }
        lines.append("  decile   rows  predicted  observed   lift  capture")
        for d in m.deciles {
            lines.append(String(format: "  %6d %6d %9.4f %9.4f %6.2f %7.1f%%", d.decile, d.rows, d.meanPredicted,
                                d.observedRate, d.lift, 100 * d.cumulativeCapture))
        }
        return lines.joined(separator: "\n")
    }
}
