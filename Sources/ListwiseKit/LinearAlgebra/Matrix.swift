// A dense matrix of doubles and the BLAS/LAPACK calls listwise needs.
// This folder is the only place that imports COpenBLAS or knows Fortran conventions.
import COpenBLAS

/// A dense matrix stored **row-major**: element (i, j) is `values[i * columns + j]`.
public struct Matrix: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "Matrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, values: Array(repeating: value, count: rows * columns))
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }
}

public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// The matrix handed to a Cholesky solve is not positive definite (LAPACK info > 0).
    case notPositiveDefinite(order: Int)
    case dimensionMismatch(String)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let order):
            return "matrix is not positive definite (leading minor of order \(order))"
        case .dimensionMismatch(let what):
            return "dimension mismatch: \(what)"
        }
    }
}

public enum BLAS {
    /// OpenBLAS runs single-threaded: listwise splits the big products across the cores itself
    /// (`LogisticRegression.weightedGram`), and OpenBLAS's idle threads spin in sched_yield,
    /// which on 2 cores took a core from the scoring pass (6 % of its samples). Every entry
    /// point below touches this first.
    static let singleThreaded: Void = openblas_set_num_threads(1)

    /// `alpha * op(a) * op(b)`, with `cblas_dgemm`.
    public static func multiply(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
                                alpha: Double = 1) throws -> Matrix {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        _ = singleThreaded
        guard k == kb else { throw LinearAlgebraError.dimensionMismatch("\(m)x\(k) times \(kb)x\(n)") }
        var c = Matrix(rows: m, columns: n)
        guard m > 0, n > 0 else { return c }
        if k == 0 { return c }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                blasint(m), blasint(n), blasint(k), alpha,
                                pa.baseAddress, blasint(a.columns),
                                pb.baseAddress, blasint(b.columns),
                                0, pc.baseAddress, blasint(n))
                }
            }
        }
        return c
    }

    /// `a * x` (or `aᵀ * x`), with `cblas_dgemv`.
    public static func multiply(_ a: Matrix, _ x: [Double], transpose: Bool = false) throws -> [Double] {
        _ = singleThreaded
        let inputLength = transpose ? a.rows : a.columns
        let outputLength = transpose ? a.columns : a.rows
        guard x.count == inputLength else {
            throw LinearAlgebraError.dimensionMismatch("\(a.rows)x\(a.columns) times vector of \(x.count)")
        }
        var y = [Double](repeating: 0, count: outputLength)
        guard a.rows > 0, a.columns > 0 else { return y }
        a.values.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                                blasint(a.rows), blasint(a.columns), 1,
                                pa.baseAddress, blasint(a.columns), px.baseAddress, 1,
                                0, py.baseAddress, 1)
                }
            }
        }
        return y
    }

    /// `aᵀ a` as a full symmetric matrix, with `cblas_dsyrk` (upper triangle, then mirrored).
    public static func gram(_ a: Matrix) -> Matrix {
        _ = singleThreaded
        let n = a.columns
        var c = Matrix(rows: n, columns: n)
        guard n > 0, a.rows > 0 else { return c }
        a.values.withUnsafeBufferPointer { pa in
            c.values.withUnsafeMutableBufferPointer { pc in
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(n), blasint(a.rows),
                            1, pa.baseAddress, blasint(n), 0, pc.baseAddress, blasint(n))
            }
        }
        for i in 0..<n { for j in 0..<i { c[i, j] = c[j, i] } }
        return c
    }
}

public enum LAPACK {
    /// Solves `a x = b` for a symmetric positive definite `a` by Cholesky (`dposv`).
    /// `b` holds one right-hand side per column (row-major, `a.rows` rows).
    public static func choleskySolve(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        _ = BLAS.singleThreaded
        guard a.rows == a.columns, b.rows == a.rows else {
            throw LinearAlgebraError.dimensionMismatch("solve \(a.rows)x\(a.columns) with \(b.rows)x\(b.columns)")
        }
        var n = Int32(a.rows)
        var nrhs = Int32(b.columns)
        // Column-major LAPACK sees the row-major symmetric `a` unchanged; `b` must be transposed.
        var factor = a.values
        var rhs = [Double](repeating: 0, count: b.rows * b.columns)
        for i in 0..<b.rows { for j in 0..<b.columns { rhs[j * b.rows + i] = b[i, j] } }
        var lda = max(n, 1)
        var ldb = max(n, 1)
        var info: Int32 = 0
        var uplo = CChar(UInt8(ascii: "L"))
        dposv_(&uplo, &n, &nrhs, &factor, &lda, &rhs, &ldb, &info, 1)
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(order: Int(info)) }
        precondition(info == 0, "dposv: illegal argument \(-info)")
        var x = Matrix(rows: b.rows, columns: b.columns)
        for i in 0..<b.rows { for j in 0..<b.columns { x[i, j] = rhs[j * b.rows + i] } }
        return x
    }

    /// Solves `a x = b` for one right-hand side vector.
    public static func choleskySolve(_ a: Matrix, _ b: [Double]) throws -> [Double] {
        try choleskySolve(a, Matrix(rows: b.count, columns: 1, values: b)).values
    }
}

/// A block of consecutive rows of a row-major matrix, at a pointer its owner keeps valid: the
/// unit of work of the streamed fit (`LogisticRegression.fit(_: DesignBlocks, ...)`).
struct RowBlock {
    let base: UnsafePointer<Double>
    let rows: Int
    let columns: Int
}

extension BLAS {
    /// `y = a x` for a block (`x`: `a.columns` values, `y`: `a.rows`), with `cblas_dgemv`.
    static func multiply(_ a: RowBlock, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        _ = singleThreaded
        guard a.rows > 0, a.columns > 0 else { y.update(repeating: 0, count: a.rows); return }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(a.rows), blasint(a.columns), 1,
                    a.base, blasint(a.columns), x, 1, 0, y, 1)
    }

    /// `y += aᵀ x` for a block (`x`: `a.rows` values, `y`: `a.columns`), with `cblas_dgemv`.
    static func accumulateTransposed(_ a: RowBlock, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        _ = singleThreaded
        guard a.rows > 0, a.columns > 0 else { return }
        cblas_dgemv(CblasRowMajor, CblasTrans, blasint(a.rows), blasint(a.columns), 1,
                    a.base, blasint(a.columns), x, 1, 1, y, 1)
    }

    /// Adds `aᵀ diag(w) a` of a block into the upper triangle of the row-major `n x n`
    /// accumulator (`dsyrk` on the rows scaled by √w, `beta = 1`); `weights` has one value per
    /// row of the block, `scratch` room for the whole block.
    static func accumulateWeightedGram(_ a: RowBlock, weights: UnsafePointer<Double>,
                                       into accumulator: UnsafeMutablePointer<Double>,
                                       scratch: UnsafeMutablePointer<Double>) {
        _ = singleThreaded
        let n = a.columns
        guard n > 0, a.rows > 0 else { return }
        for row in 0..<a.rows {
            let scale = weights[row].squareRoot()
            let source = a.base + row * n, target = scratch + row * n
            for j in 0..<n { target[j] = source[j] * scale }
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(n), blasint(a.rows),
                    1, scratch, blasint(n), 1, accumulator, blasint(n))
    }
}
