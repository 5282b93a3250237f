// Proves the OpenBLAS/LAPACK binding links and computes the right numbers (hand-computed references).
import XCTest
@testable import ListwiseKit

final class MatrixTests: XCTestCase {
    func testGemmMatchesHandComputedProduct() throws {
        let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        let b = Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
        let c = try BLAS.multiply(a, b)
        XCTAssertEqual(c, Matrix(rows: 2, columns: 2, values: [58, 64, 139, 154]))
        let ct = try BLAS.multiply(a, a, transposeA: true)
        XCTAssertEqual(ct, Matrix(rows: 3, columns: 3, values: [17, 22, 27, 22, 29, 36, 27, 36, 45]))
        XCTAssertThrowsError(try BLAS.multiply(a, a))
    }

    func testGemvAndGram() throws {
        let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try BLAS.multiply(a, [1, 0, -1]), [-2, -2])
        XCTAssertEqual(try BLAS.multiply(a, [1, 1], transpose: true), [5, 7, 9])
        XCTAssertEqual(BLAS.gram(a), Matrix(rows: 3, columns: 3, values: [17, 22, 27, 22, 29, 36, 27, 36, 45]))
    }

    func testCholeskySolveRecoversKnownSolution() throws {
        // A = [[4,12,-16],[12,37,-43],[-16,-43,98]] is the classic SPD example (L = [[2],[6,1],[-8,5,3]]).
        let a = Matrix(rows: 3, columns: 3, values: [4, 12, -16, 12, 37, -43, -16, -43, 98])
        let x = [1.0, -2.0, 0.5]
        let b = try BLAS.multiply(a, x)
        let solved = try LAPACK.choleskySolve(a, b)
        for (s, e) in zip(solved, x) { XCTAssertEqual(s, e, accuracy: 1e-12) }
        // Two right-hand sides at once.
        let rhs = Matrix(rows: 3, columns: 2, values: [b[0], 4, b[1], 12, b[2], -16])
        let both = try LAPACK.choleskySolve(a, rhs)
        XCTAssertEqual(both[0, 1], 1, accuracy: 1e-12)
        XCTAssertEqual(both[1, 1], 0, accuracy: 1e-12)
        XCTAssertEqual(both[2, 0], 0.5, accuracy: 1e-12)
    }

    func testCholeskyRejectsIndefiniteMatrix() {
        let a = Matrix(rows: 2, columns: 2, values: [1, 2, 2, 1])
        XCTAssertThrowsError(try LAPACK.choleskySolve(a, [1, 1])) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notPositiveDefinite(order: 2))
        }
    }
}
