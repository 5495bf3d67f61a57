// Owns the precompiled <torch/torch.h> that the zoo targets reuse.
