// Benchmarks of the engine: `persephone bench` (see docs/benchmarks.md).
import Tensor
import NN
