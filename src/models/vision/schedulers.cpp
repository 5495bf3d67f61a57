#include "models/vision/schedulers.h"

#include <fmt/format.h>

#include <cmath>

#include "joulebench/error.h"

namespace joulebench::models::vision {

std::vector<double> scaled_linear_betas(const NoiseSchedule& s) {
  std::vector<double> betas(s.train_steps);
  double a = std::sqrt(s.beta_start), b = std::sqrt(s.beta_end);
  for (int i = 0; i < s.train_steps; ++i) {
    double r = a + (b - a) * i / (s.train_steps - 1);
    betas[i] = r * r;
  }
  return betas;
}

std::vector<double> alphas_cumprod(const NoiseSchedule& s) {
  auto betas = scaled_linear_betas(s);
  std::vector<double> ac(betas.size());
  double p = 1.0;
  for (std::size_t i = 0; i < betas.size(); ++i) ac[i] = (p *= 1.0 - betas[i]);
  return ac;
}

namespace {

// "leading" spacing: t_k = k * (N / steps) + offset, descending.
std::vector<double> leading_timesteps(int steps, const NoiseSchedule& s) {
  int ratio = s.train_steps / steps;
  std::vector<double> t;
  for (int k = steps - 1; k >= 0; --k) t.push_back(static_cast<double>(k * ratio + s.steps_offset));
  return t;
}

class Ddim : public Scheduler {
 public:
  Ddim(int steps, const NoiseSchedule& s)
      : ac_(alphas_cumprod(s)), t_(leading_timesteps(steps, s)), ratio_(s.train_steps / steps) {}
  const std::vector<double>& timesteps() const override { return t_; }
  std::string name() const override { return "ddim"; }
  torch::Tensor step(const torch::Tensor& eps, std::size_t i, const torch::Tensor& x) override {
    int t = static_cast<int>(t_[i]);
    int prev = t - ratio_;
    double a = ac_[t];
    double a_prev = prev >= 0 ? ac_[prev] : ac_[0];  // set_alpha_to_one = false
    auto x0 = (x - std::sqrt(1 - a) * eps) / std::sqrt(a);
    return std::sqrt(a_prev) * x0 + std::sqrt(1 - a_prev) * eps;  // eta = 0
  }

 private:
  std::vector<double> ac_, t_;
  int ratio_;
};

class Pndm : public Scheduler {
 public:
  Pndm(int steps, const NoiseSchedule& s) : ac_(alphas_cumprod(s)), ratio_(s.train_steps / steps) {
    auto lead = leading_timesteps(steps, s);  // descending
    // skip_prk_steps: diffusers evaluates the second timestep twice (the first
    // PLMS step is a two-point warm-up) -> steps + 1 UNet evaluations.
    t_.push_back(lead[0]);
    if (lead.size() > 1) t_.push_back(lead[1]);
    for (std::size_t k = 1; k < lead.size(); ++k) t_.push_back(lead[k]);
  }
  const std::vector<double>& timesteps() const override { return t_; }
  std::string name() const override { return "pndm"; }
  torch::Tensor step(const torch::Tensor& eps_in, std::size_t i, const torch::Tensor& x) override {
    int t = static_cast<int>(t_[i]);
    int prev = t - ratio_;
    auto eps = eps_in;
    torch::Tensor sample = x;
    if (counter_ != 1) {
      if (ets_.size() > 3) ets_.erase(ets_.begin());
      ets_.push_back(eps_in);
    } else {
      prev = t;
      t = t + ratio_;
    }
    if (ets_.size() == 1 && counter_ == 0) {
      cur_sample_ = x;
    } else if (ets_.size() == 1 && counter_ == 1) {
      eps = (eps_in + ets_.back()) / 2;
      sample = cur_sample_;
      cur_sample_ = torch::Tensor();
    } else if (ets_.size() == 2) {
      eps = (3 * ets_[1] - ets_[0]) / 2;
    } else if (ets_.size() == 3) {
      eps = (23 * ets_[2] - 16 * ets_[1] + 5 * ets_[0]) / 12;
    } else {
      auto n = ets_.size();
      eps = (55 * ets_[n - 1] - 59 * ets_[n - 2] + 37 * ets_[n - 3] - 9 * ets_[n - 4]) / 24;
    }
    ++counter_;
    double a = ac_[t];
    double a_prev = prev >= 0 ? ac_[prev] : ac_[0];
    double sample_coeff = std::sqrt(a_prev / a);
    double denom = a * std::sqrt(1 - a_prev) + std::sqrt(a * (1 - a) * a_prev);
    return sample_coeff * sample - (a_prev - a) * eps / denom;
  }

 private:
  std::vector<double> ac_, t_;
  int ratio_;
  int counter_ = 0;
  std::vector<torch::Tensor> ets_;
  torch::Tensor cur_sample_;
};

class Euler : public Scheduler {
 public:
  Euler(int steps, const NoiseSchedule& s) {
    auto ac = alphas_cumprod(s);
    std::vector<double> sig(ac.size());
    for (std::size_t i = 0; i < ac.size(); ++i) sig[i] = std::sqrt((1 - ac[i]) / ac[i]);
    // "linspace" spacing: t = linspace(0, N - 1, steps) reversed; sigma by linear interpolation.
    for (int k = steps - 1; k >= 0; --k) {
      double t = steps == 1 ? 0.0 : (s.train_steps - 1) * static_cast<double>(k) / (steps - 1);
      t_.push_back(t);
      auto lo = static_cast<std::size_t>(std::floor(t));
      auto hi = std::min(lo + 1, sig.size() - 1);
      double w = t - static_cast<double>(lo);
      sigmas_.push_back(sig[lo] * (1 - w) + sig[hi] * w);
    }
    sigmas_.push_back(0.0);
  }
  const std::vector<double>& timesteps() const override { return t_; }
  std::string name() const override { return "euler"; }
  double init_noise_sigma() const override { return sigmas_.front(); }
  torch::Tensor scale_model_input(const torch::Tensor& x, std::size_t i) const override {
    return x / std::sqrt(sigmas_[i] * sigmas_[i] + 1);
  }
  torch::Tensor step(const torch::Tensor& eps, std::size_t i, const torch::Tensor& x) override {
    // x0 = x - sigma eps; derivative (x - x0) / sigma = eps; Euler step to the next sigma.
    return x + eps * (sigmas_[i + 1] - sigmas_[i]);
  }
  const std::vector<double>& sigmas() const { return sigmas_; }

 private:
  std::vector<double> t_, sigmas_;
};

}  // namespace

std::unique_ptr<Scheduler> make_scheduler(const std::string& name, int steps, const NoiseSchedule& s) {
  if (steps < 1 || steps > s.train_steps)
    throw InputError(fmt::format("diffusion steps must be in 1..{}, got {}", s.train_steps, steps));
  if (name == "pndm" || name.empty()) return std::make_unique<Pndm>(steps, s);
  if (name == "ddim") return std::make_unique<Ddim>(steps, s);
  if (name == "euler") return std::make_unique<Euler>(steps, s);
  throw InputError(fmt::format("unknown scheduler '{}' (pndm, ddim or euler)", name));
}

}  // namespace joulebench::models::vision
