import TensorCore

/// `body(b, &states[b])` for every sequence of a decode step, the sequences split across the workers (one
/// sequence: on this thread, its kernels split their own work).
func bySequence(_ batch: Int, _ states: inout [LayerState], _ body: (Int, inout LayerState) -> Void) {
    states.withUnsafeMutableBufferPointer { carried in
        Parallel.forEachRange(batch) { range in for b in range { body(b, &carried[b]) } }
    }
}

/// The conv step of every sequence, then SiLU on its row while it is in cache: row b of `input` (at
/// b · `inputStride`, the conv channels' column block) → row b of `output` [B, channels].
func convolutionStep(_ batch: Int, _ states: inout [LayerState], weight: Tensor, bias: Tensor?, input: UnsafePointer<Float>,
                     inputStride: Int, output: UnsafeMutablePointer<Float>) {
    let channels = weight.rows
    bySequence(batch, &states) { b, state in
        state.conv.data.withUnsafeMutableBufferPointer {
            CausalConv1d.step(input + b * inputStride, weight: weight, bias: bias, state: $0.baseAddress!, into: output + b * channels)
        }
        Activations.silu(output + b * channels, count: channels)
    }
}
