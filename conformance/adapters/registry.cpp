#include "conformance/engine/adapter.hpp"

namespace parley::conform {

std::unique_ptr<adapter> make_itp_adapter();
std::unique_ptr<adapter> make_securechat_adapter();
std::unique_ptr<adapter> make_multiparty_adapter();
std::unique_ptr<adapter> make_sslmessager_adapter();
std::unique_ptr<adapter> make_peerchat_adapter();

const std::map<std::string, std::function<std::unique_ptr<adapter>()>>& adapters() {
  static const std::map<std::string, std::function<std::unique_ptr<adapter>()>> all = {
      {"itp", make_itp_adapter},
      {"securechat", make_securechat_adapter},
      {"multiparty", make_multiparty_adapter},
      {"sslmessager", make_sslmessager_adapter},
      {"peerchat", make_peerchat_adapter},
  };
  return all;
}

}  // namespace parley::conform
