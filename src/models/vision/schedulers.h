// Diffusion schedulers as diffusers configures them for Stable Diffusion 1.x
// (scaled_linear betas 0.00085..0.012 over 1000 training steps,
// steps_offset 1, set_alpha_to_one false, epsilon prediction):
// PNDM (PLMS, skip_prk_steps: SD 1.5's default), DDIM (eta 0) and Euler
// (EulerDiscreteScheduler, linspace timesteps).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace joulebench::models::vision {

struct NoiseSchedule {
  int train_steps = 1000;
  double beta_start = 0.00085;
  double beta_end = 0.012;
  int steps_offset = 1;
};

// beta_i = (sqrt(b0) + i (sqrt(b1) - sqrt(b0)) / (N - 1))^2; alpha_bar_t = prod_{i<=t} (1 - beta_i).
std::vector<double> scaled_linear_betas(const NoiseSchedule& s);
std::vector<double> alphas_cumprod(const NoiseSchedule& s);

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // The UNet's timesteps, in order (PNDM has steps + 1 of them).
  virtual const std::vector<double>& timesteps() const = 0;
  virtual double init_noise_sigma() const { return 1.0; }
  // Input scaling before the UNet at step `i` (Euler divides by sqrt(sigma^2 + 1)).
  virtual torch::Tensor scale_model_input(const torch::Tensor& x, std::size_t i) const { return x; }
  // One denoising step at index `i` of timesteps(): new latents.
  virtual torch::Tensor step(const torch::Tensor& eps, std::size_t i, const torch::Tensor& x) = 0;
  virtual std::string name() const = 0;
};

// "pndm", "ddim" or "euler"; throws InputError otherwise.
std::unique_ptr<Scheduler> make_scheduler(const std::string& name, int steps, const NoiseSchedule& s = {});

}  // namespace joulebench::models::vision
