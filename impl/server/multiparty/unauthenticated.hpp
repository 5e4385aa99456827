// Only for fault::skip_tag_check: reads a GCM payload without checking its tag (AES-CTR from counter 2),
// which is exactly the mistake the fault plants. Nothing else may use this.
#pragma once

#include "impl/core/result.hpp"
#include "impl/proto/multiparty/mtp.hpp"

namespace parley::multiparty {

result<opened_frame> open_frame_ignoring_tag(byte_view key, direction d, byte_view frame);

}  // namespace parley::multiparty
