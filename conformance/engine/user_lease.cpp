#include "conformance/engine/user_lease.hpp"

#include <algorithm>
#include <chrono>

#include "conformance/engine/runner.hpp"

namespace parley::conform {
namespace {
constexpr const char* lease_key = "engine.lease";
}

void user_lease::add(const std::string& name) {
  std::lock_guard lock(mutex_);
  free_.push_back(name);
  ++total_;
}

std::size_t user_lease::size() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::string user_lease::take(case_context& ctx, std::size_t want, std::vector<std::string>& names) const {
  std::unique_lock lock(mutex_);
  if (total_ < want)
    return "the case needs " + std::to_string(want) + " users and only " + std::to_string(total_) +
           " are left to lend (users the target still holds are no longer lent)";
  if (!returned_.wait_for(lock, std::chrono::seconds(60), [&] { return free_.size() >= want; }))
    return "no free users to run the case with after 60 s";
  names.clear();
  for (std::size_t i = 0; i < want; ++i) {
    names.push_back(free_.front());
    free_.pop_front();
  }
  ctx.objects()[lease_key] = names;
  return {};
}

std::string user_lease::retire(case_context& ctx, const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = ctx.objects().find(lease_key);
  if (it != ctx.objects().end()) {
    auto& names = std::any_cast<std::vector<std::string>&>(it->second);
    auto at = std::find(names.begin(), names.end(), name);
    if (at == names.end()) return {};
    names.erase(at);
    --total_;
  }
  std::string note = "the target still held user " + name + " after the case that used it had ended; " + name +
                     " is no longer lent (" + std::to_string(total_) + " users left)";
  ctx.retry(note);
  return note;
}

void user_lease::give_back(case_context& ctx) const {
  auto it = ctx.objects().find(lease_key);
  if (it == ctx.objects().end()) return;
  std::lock_guard lock(mutex_);
  for (auto& name : std::any_cast<std::vector<std::string>&>(it->second)) free_.push_back(name);
  ctx.objects().erase(it);
  returned_.notify_all();
}

}  // namespace parley::conform
