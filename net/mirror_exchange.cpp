#include "net/mirror_exchange.h"

#include "net/proxy_worker.h"

namespace am::net {

mirror_exchange::mirror_exchange(proxy_worker& worker, upstream_connection& upstream)
    : worker_(worker), upstream_(&upstream), timer_(&mirror_exchange::on_timeout, this) {
  worker_.loop().schedule(timer_, timeout_ms);
}

mirror_exchange::~mirror_exchange() {
  if (upstream_ != nullptr) {
    upstream_->release();  // incomplete: closed, never pooled
  }
}

void mirror_exchange::on_upstream_complete() {
  upstream_->release();
  upstream_ = nullptr;
  end();
}

void mirror_exchange::on_upstream_error(proxy_error, const std::string&, bool) {
  upstream_ = nullptr;  // the connection closed itself
  end();
}

void mirror_exchange::on_upstream_switched(upstream_connection& c) {
  upstream_ = nullptr;
  c.close();
  end();
}

void mirror_exchange::on_timeout(void* self) {
  static_cast<mirror_exchange*>(self)->end();
}

void mirror_exchange::end() {
  worker_.end_mirror(this);  // deletes this
}

}  // namespace am::net
