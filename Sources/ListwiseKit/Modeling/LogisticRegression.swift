// L2-regularised logistic regression fitted by Newton's method (IRLS), heavy steps in BLAS.
import Dispatch
import Foundation

/// Settings of `LogisticRegression.fit`.
public struct LogisticSettings: Equatable, Sendable, Codable {
    /// λ of the penalty (λ/2)·‖β‖² (the intercept is not penalised). 0 = unpenalised.
    public var l2: Double
    /// Stop when the relative change of the penalised objective is below this.
    public var tolerance: Double
    public var maxIterations: Int

    public init(l2: Double = 0, tolerance: Double = 1e-12, maxIterations: Int = 100) {
        self.l2 = l2
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }
}

/// The result of a fit. Convergence is a field, not a log line.
public struct LogisticFit: Equatable, Sendable, Codable {
    public var intercept: Double
    public var coefficients: [Double]
    public var iterations: Int
    public var converged: Bool
    /// True when the classes look perfectly separable: probabilities reach 0 or 1 and
    /// coefficients grow without bound (only possible without a penalty).
    public var separable: Bool
    /// The deviance −2 Σ wᵢ log-likelihoodᵢ after each iteration (the first entry is at the start).
    public var deviancePath: [Double]

    /// P(y = 1) for one row of features.
    public func probability(_ row: [Double]) -> Double {
        var eta = intercept
        for (x, b) in zip(row, coefficients) { eta += x * b }
        return LogisticRegression.sigmoid(eta)
    }
}

public enum LogisticRegression {
    /// Minimises
    ///
    ///     L(β₀, β) = −Σᵢ wᵢ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)] + (λ/2) Σⱼ βⱼ²,   pᵢ = σ(β₀ + xᵢ·β)
    ///
    /// over the intercept β₀ (not penalised) and the coefficients β, by Newton steps
    /// (XᵀWX by chunked `dsyrk` split across the cores, gradients and predictions by `dgemv`,
    /// the step by Cholesky `dposv`), halving a step that would increase L. Features are used
    /// as given: the caller standardises (see `DesignMatrix`). This is scikit-learn's
    /// `LogisticRegression(C = 1/λ)` objective and, for λ = 0, statsmodels' binomial GLM.
    /// Stops when |L_k − L_{k−1}| / (|L_k| + 0.1) < tolerance, or after `maxIterations`.
    /// Throws when the Hessian is not positive definite (constant or duplicate columns, λ = 0).
    public static func fit(_ x: Matrix, _ y: [Double], weights: [Double]? = nil,
                           settings: LogisticSettings = LogisticSettings()) throws -> LogisticFit {
        let n = x.rows, p = x.columns
        guard y.count == n, weights?.count ?? n == n else {
            throw LinearAlgebraError.dimensionMismatch("\(n) rows, \(y.count) labels, \(weights?.count ?? n) weights")
        }
        let w = weights ?? [Double](repeating: 1, count: n)
        let lambda = settings.l2
        var intercept = 0.0
        var beta = [Double](repeating: 0, count: p)
        // Start at the weighted base rate: one Newton step closer for rare events.
        let totalWeight = w.reduce(0, +)
        let positiveWeight = zip(w, y).reduce(0) { $0 + $1.0 * $1.1 }
        if totalWeight > 0, positiveWeight > 0, positiveWeight < totalWeight {
            intercept = log(positiveWeight / (totalWeight - positiveWeight))
        }

        func objective(_ b0: Double, _ b: [Double]) throws -> (objective: Double, deviance: Double, eta: [Double]) {
            var eta = try BLAS.multiply(x, b)
            var deviance = 0.0
            for i in 0..<n {
                eta[i] += b0
                deviance += w[i] * logLoss(eta: eta[i], y: y[i])
            }
            deviance *= 2
            let penalty = 0.5 * lambda * b.reduce(0) { $0 + $1 * $1 }
            return (deviance / 2 + penalty, deviance, eta)
        }

        var current = try objective(intercept, beta)
        var path = [current.deviance]
        var converged = false
        var iterations = 0
        let m = p + 1
        var gram = [Double](repeating: 0, count: p * p)
        while iterations < settings.maxIterations {
            iterations += 1
            // Working weights and residuals.
            var working = [Double](repeating: 0, count: n)
            var residual = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let prob = sigmoid(current.eta[i])
                working[i] = w[i] * prob * (1 - prob)
                residual[i] = w[i] * (y[i] - prob)
            }
            // Gradient of −L: [Σ r, Xᵀr − λβ].
            let xr = try BLAS.multiply(x, residual, transpose: true)
            var gradient = [Double](repeating: 0, count: m)
            gradient[0] = residual.reduce(0, +)
            for j in 0..<p { gradient[j + 1] = xr[j] - lambda * beta[j] }
            // Hessian of L: [[Σw, (Xᵀw)ᵀ], [Xᵀw, XᵀWX + λI]].
            weightedGram(x, working, into: &gram)
            let xw = try BLAS.multiply(x, working, transpose: true)
            var hessian = Matrix(rows: m, columns: m)
            hessian[0, 0] = working.reduce(0, +)
            for j in 0..<p {
                hessian[0, j + 1] = xw[j]
                hessian[j + 1, 0] = xw[j]
                for k in j..<p {
                    hessian[j + 1, k + 1] = gram[j * p + k]
                    hessian[k + 1, j + 1] = gram[j * p + k]
                }
                hessian[j + 1, j + 1] += lambda
            }
            let step = try LAPACK.choleskySolve(hessian, gradient)
            // Step halving keeps every iteration downhill.
            var scale = 1.0
            var candidate = current
            var b0 = intercept, b = beta
            for _ in 0..<30 {
                b0 = intercept + scale * step[0]
                for j in 0..<p { b[j] = beta[j] + scale * step[j + 1] }
                candidate = try objective(b0, b)
                if candidate.objective <= current.objective + 1e-12 * abs(current.objective) { break }
                scale /= 2
            }
            let change = abs(current.objective - candidate.objective) / (abs(candidate.objective) + 0.1)
            intercept = b0
            beta = b
            current = candidate
            path.append(current.deviance)
            if change < settings.tolerance {
                converged = true
                break
            }
        }
        let largest = beta.map(abs).max() ?? 0
        let separable = lambda == 0 && (current.deviance < 1e-6 * max(totalWeight, 1) || largest > 1e4)
        return LogisticFit(intercept: intercept, coefficients: beta, iterations: iterations,
                           converged: converged && !separable, separable: separable, deviancePath: path)
    }

    /// The upper triangle of XᵀWX into `gram` (p x p, row-major), rows split across the cores
    /// (measured 1.5x faster than one multithreaded OpenBLAS call on tall thin matrices).
    static func weightedGram(_ x: Matrix, _ weights: [Double], into gram: inout [Double]) {
        let n = x.rows, p = x.columns
        let chunk = 4096
        let workers = n > 4 * chunk ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) : 1
        let rowsPerWorker = (n + workers - 1) / workers
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: workers * p * p)
        partials.initialize(repeating: 0, count: workers * p * p)
        defer { partials.deallocate() }
        weights.withUnsafeBufferPointer { pw in
            let shared = SharedPointers(weights: pw.baseAddress!, partials: partials)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let scratch = UnsafeMutablePointer<Double>.allocate(capacity: chunk * max(p, 1))
                defer { scratch.deallocate() }
                let start = worker * rowsPerWorker, end = min(n, start + rowsPerWorker)
                var row = start
                while row < end {
                    let upper = min(end, row + chunk)
                    BLAS.accumulateWeightedGram(x, weights: shared.weights, rows: row..<upper,
                                                into: shared.partials + worker * p * p, scratch: scratch)
                    row = upper
                }
            }
        }
        for k in 0..<(p * p) {
            var sum = 0.0
            for worker in 0..<workers { sum += partials[worker * p * p + k] }
            gram[k] = sum
        }
    }

    /// Pointers handed to the worker threads; each worker writes only its own slice.
    private struct SharedPointers: @unchecked Sendable {
        let weights: UnsafePointer<Double>
        let partials: UnsafeMutablePointer<Double>
    }

    @inline(__always)
    public static func sigmoid(_ eta: Double) -> Double {
        eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta))
    }

    /// −[y log σ(η) + (1 − y) log(1 − σ(η))], computed stably from η.
    @inline(__always)
    static func logLoss(eta: Double, y: Double) -> Double {
        // log(1 + e^η) − y η
        let softplus = eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))
        return softplus - y * eta
    }
}
