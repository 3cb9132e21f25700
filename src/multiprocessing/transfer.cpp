#include <unistd.h>

#include <algorithm>
#include <string>

#include "concur/detail/assert.hpp"
#include "concur/errors.hpp"
#include "concur/multiprocessing.hpp"
#include "multiprocessing/block.hpp"

namespace concur::multiprocessing_detail {

namespace {

// The deleter of every block's owner, so that std::get_deleter finds the
// block behind any pointer that shares its ownership.
struct BlockOwner {
  const sys::SharedMapping* block;
  void operator()(sys::SharedMapping* b) const noexcept { delete b; }
};

std::shared_ptr<sys::SharedMapping> own(sys::SharedMapping block) {
  auto* b = new sys::SharedMapping(std::move(block));
  return std::shared_ptr<sys::SharedMapping>(b, BlockOwner{b});
}

}  // namespace

std::shared_ptr<sys::SharedMapping> map_block(std::size_t size,
                                              const char* name) {
  return own(sys::SharedMapping::anonymous(size, name));
}

std::uint32_t Outbox::add(int fd) {
  const auto it = std::find(fds_.begin(), fds_.end(), fd);
  if (it != fds_.end()) return static_cast<std::uint32_t>(it - fds_.begin());
  fds_.push_back(fd);
  return static_cast<std::uint32_t>(fds_.size() - 1);
}

Inbox::~Inbox() {
  for (const int fd : fds_) {
    if (fd >= 0) ::close(fd);
  }
}

int Inbox::take(std::uint32_t i) {
  if (i >= fds_.size() || fds_[i] < 0) {
    throw ValueError("a message to a forkserver child lacks descriptor " +
                     std::to_string(i));
  }
  return std::exchange(fds_[i], -1);
}

std::shared_ptr<sys::SharedMapping> Inbox::block(std::uint32_t i) {
  if (blocks_.size() <= i) blocks_.resize(i + 1);
  if (!blocks_[i]) blocks_[i] = own(sys::SharedMapping::map(take(i)));
  return blocks_[i];
}

void send_block_pointer(codec::Writer& w, Outbox& out,
                        const std::shared_ptr<const void>& p) {
  const BlockOwner* owner = std::get_deleter<BlockOwner>(p);
  CONCUR_ASSERT(owner != nullptr, "a shared object outside a shared block");
  const auto* base = static_cast<const std::byte*>(owner->block->data());
  const auto offset =
      static_cast<std::uint64_t>(static_cast<const std::byte*>(p.get()) - base);
  codec::encode(w, out.add(owner->block->fd()));
  codec::encode(w, offset);
}

std::shared_ptr<std::byte> receive_block_pointer(codec::Reader& r, Inbox& in,
                                                 std::size_t size) {
  const auto index = codec::decode<std::uint32_t>(r);
  const auto offset = codec::decode<std::uint64_t>(r);
  std::shared_ptr<sys::SharedMapping> block = in.block(index);
  if (offset > block->size() || block->size() - offset < size) {
    throw ValueError(
        "a shared object sent to a forkserver child lies "
        "outside its block");
  }
  return alias<std::byte>(block,
                          static_cast<std::byte*>(block->data()) + offset);
}

}  // namespace concur::multiprocessing_detail
