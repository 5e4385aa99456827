#include "conformance/wirefuzz/minimize.hpp"

#include "conformance/engine/runner.hpp"
#include "conformance/wirefuzz/mutate.hpp"

namespace parley::wirefuzz {
namespace {

class shrinker {
public:
  shrinker(const std::function<bool(const conform::test_case&)>& reproduces, minimize_budget budget)
      : reproduces_(reproduces), budget_(budget), until_(clock_type::now() + budget.time) {}

  bool exhausted() const { return trials_ >= budget_.trials || clock_type::now() >= until_; }
  bool keeps(const conform::test_case& candidate) {
    if (exhausted()) return false;
    ++trials_;
    return reproduces_(candidate);
  }
  int trials() const { return trials_; }

private:
  const std::function<bool(const conform::test_case&)>& reproduces_;
  minimize_budget budget_;
  time_point until_;
  int trials_ = 0;
};

// Delta debugging over the steps: remove chunks, halving their size until single steps are tried.
void drop_steps(conform::test_case& c, shrinker& s) {
  std::size_t chunks = 2;
  while (c.steps.size() >= 2 && !s.exhausted()) {
    std::size_t size = (c.steps.size() + chunks - 1) / chunks;
    bool removed = false;
    for (std::size_t from = 0; from < c.steps.size() && !s.exhausted(); from += size) {
      conform::test_case candidate = c;
      auto first = candidate.steps.begin() + static_cast<long>(from);
      candidate.steps.erase(first, first + static_cast<long>(std::min(size, c.steps.size() - from)));
      if (candidate.steps.empty() || !s.keeps(candidate)) continue;
      c = std::move(candidate);
      removed = true;
      break;
    }
    if (removed) {
      chunks = std::max<std::size_t>(chunks - 1, 2);
    } else {
      if (chunks >= c.steps.size()) break;
      chunks = std::min(c.steps.size(), chunks * 2);
    }
  }
}

std::string joined(const std::vector<std::string>& tokens) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

// Then, in each text the steps write: drop tokens, and halve long ones.
void shrink_texts(conform::test_case& c, shrinker& s) {
  for (const auto& site : text_sites(c)) {
    auto get = [&](const conform::test_case& t) {
      const auto& st = t.steps[site.step];
      return site.key.empty() ? st.text : st.args[site.key].as<std::string>();
    };
    auto with = [&](std::string text) {
      conform::test_case t = c;
      detach(t);
      auto& st = t.steps[site.step];
      if (site.key.empty()) st.text = std::move(text);
      else st.args[site.key] = text;
      return t;
    };
    auto tokens = tokens_of(get(c));
    for (std::size_t i = tokens.size(); i-- > 0 && tokens.size() > 1 && !s.exhausted();) {
      auto fewer = tokens;
      fewer.erase(fewer.begin() + static_cast<long>(i));
      if (auto t = with(joined(fewer)); s.keeps(t)) {
        c = std::move(t);
        tokens = std::move(fewer);
      }
    }
    for (std::size_t i = 0; i < tokens.size() && !s.exhausted(); ++i) {
      while (tokens[i].size() > 16 && tokens[i].find("${") == std::string::npos && !s.exhausted()) {
        auto shorter = tokens;
        shorter[i].resize(tokens[i].size() / 2);
        auto t = with(joined(shorter));
        if (!s.keeps(t)) break;
        c = std::move(t);
        tokens = std::move(shorter);
      }
    }
  }
}

}  // namespace

conform::test_case minimize(conform::test_case session, const std::function<bool(const conform::test_case&)>& reproduces,
                            minimize_budget budget, int* trials_used) {
  shrinker s(reproduces, budget);
  drop_steps(session, s);
  shrink_texts(session, s);
  if (trials_used) *trials_used = s.trials();
  return session;
}

}  // namespace parley::wirefuzz
