// Users a shared target knows, lent to the cases that run against it at the same time, so that two cases
// never log in as the same user at once. A returned user goes to the back of the queue, which gives the
// target time to forget it. Adapters whose users need keys or passwords the target holds use this; the
// others invent unique names instead.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace parley::conform {

class case_context;

class user_lease {
public:
  void add(const std::string& name);
  std::size_t size() const;
  // Up to `want` users nobody else holds, waiting at most 60 s; they are recorded in `ctx` for
  // give_back. Returns "" or why the case cannot run.
  std::string take(case_context& ctx, std::size_t want, std::vector<std::string>& names) const;
  // Returns what `ctx` took, if anything (adapter::end_case).
  void give_back(case_context& ctx) const;
  // The target still holds `name` although the case that used it has ended (it missed the end of that
  // session): the name is not lent again, and the case that found it out runs again with other users
  // (case_context::retry). Returns the note for the report.
  std::string retire(case_context& ctx, const std::string& name) const;

private:
  mutable std::mutex mutex_;
  mutable std::condition_variable returned_;
  mutable std::deque<std::string> free_;
  mutable std::size_t total_ = 0;
};

}  // namespace parley::conform
