// Private to the host's TLS and WebSocket channels: a batch written unit by unit through the channel's layer
// (each unit one TLS record, or one WebSocket message) over a batching socket, which holds what the layer
// writes and sends the whole batch in one write when it is released.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>

#include "impl/core/payload.hpp"
#include "impl/net/detail/batching_socket.hpp"
#include "impl/server/host/channel.hpp"

namespace parley::host::detail {

// Channel provides batch() (its unit_batch), socket() (the batching socket under its layer) and
// write_unit(unit, handler(error_code, size_t)), which writes one unit through the layer.
template <class Channel>
class unit_batch {
public:
  static void start(std::shared_ptr<Channel> self, std::span<const core::payload> units, channel::write_handler done) {
    auto& batch = self->batch();
    batch.units_ = units;
    batch.written_ = 0;
    batch.done_ = std::move(done);
    self->socket().hold();
    next(std::move(self));
  }

private:
  static void next(std::shared_ptr<Channel> self) {
    auto& batch = self->batch();
    auto& socket = self->socket();
    if (batch.written_ == batch.units_.size()) {
      socket.release([self = std::move(self)](boost::system::error_code ec) {
        self->batch().finish(ec ? ec.message() : std::string{});
      });
      return;
    }
    const auto& unit = batch.units_[batch.written_++];
    auto* channel = self.get();
    channel->write_unit(unit, [self = std::move(self)](boost::system::error_code ec, std::size_t) mutable {
      if (!ec) return next(std::move(self));
      self->socket().release(nullptr);
      self->batch().finish(ec.message());
    });
  }

  void finish(std::string error) {
    units_ = {};
    if (auto done = std::exchange(done_, nullptr)) done(std::move(error));
  }

  std::span<const core::payload> units_;
  std::size_t written_ = 0;
  channel::write_handler done_;
};

}  // namespace parley::host::detail
