import COpenBLAS

/// Fully connected layer on row-major buffers: out[B, O] = inp[B, I] · W[O, I]ᵀ + b[O].
enum Linear {
    static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, batch B: Int, inputs I: Int, outputs O: Int) {
        for r in 0..<B { (out + r * O).update(from: bias, count: O) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(B), Int32(O), Int32(I),
                    1, inp, Int32(I), weight, Int32(I), 1, out, Int32(O))
    }

    /// Accumulates dW += doutᵀ · inp and db += Σ_rows dout; writes dinp = dout · W when asked.
    static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         batch B: Int, inputs I: Int, outputs O: Int) {
        if let dinp {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(B), Int32(I), Int32(O),
                        1, dout, Int32(O), weight, Int32(I), 0, dinp, Int32(I))
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(O), Int32(I), Int32(B),
                    1, dout, Int32(O), inp, Int32(I), 1, dweight, Int32(I))
        for r in 0..<B {
            let row = dout + r * O
            for o in 0..<O { dbias[o] += row[o] }
        }
    }
}
