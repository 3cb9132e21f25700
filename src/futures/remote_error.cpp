#include "futures/remote_error.hpp"

#include <functional>
#include <string_view>
#include <utility>

#include "common/exception_type.hpp"
#include "concur/errors.hpp"
#include "concur/futures.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/queue.hpp"
#include "concur/threading.hpp"

namespace concur::futures_detail {

namespace {

template <class E>
std::exception_ptr make(std::string message) {
  return std::make_exception_ptr(E(std::move(message)));
}

using Factory = std::exception_ptr (*)(std::string);

struct Known {
  std::string_view name;
  Factory factory;
};

// concur's errors that carry a message alone, by their type_name().
constexpr Known kKnown[] = {
    {"Error", &make<Error>},
    {"RuntimeError", &make<RuntimeError>},
    {"DeadlockError", &make<DeadlockError>},
    {"ValueError", &make<ValueError>},
    {"TypeError", &make<TypeError>},
    {"EOFError", &make<EOFError>},
    {"OSError", &make<OSError>},
    {"BlockingIOError", &make<BlockingIOError>},
    {"ChildProcessError", &make<ChildProcessError>},
    {"ConnectionError", &make<ConnectionError>},
    {"BrokenPipeError", &make<BrokenPipeError>},
    {"ConnectionAbortedError", &make<ConnectionAbortedError>},
    {"ConnectionRefusedError", &make<ConnectionRefusedError>},
    {"ConnectionResetError", &make<ConnectionResetError>},
    {"FileExistsError", &make<FileExistsError>},
    {"FileNotFoundError", &make<FileNotFoundError>},
    {"InterruptedError", &make<InterruptedError>},
    {"IsADirectoryError", &make<IsADirectoryError>},
    {"NotADirectoryError", &make<NotADirectoryError>},
    {"PermissionError", &make<PermissionError>},
    {"ProcessLookupError", &make<ProcessLookupError>},
    {"TimeoutError", &make<TimeoutError>},
    {"BrokenBarrierError", &make<threading::BrokenBarrierError>},
    {"Empty", &make<queue::Empty>},
    {"Full", &make<queue::Full>},
    {"ShutDown", &make<queue::ShutDown>},
    {"CancelledError", &make<futures::CancelledError>},
    {"InvalidStateError", &make<futures::InvalidStateError>},
    {"BrokenExecutor", &make<futures::BrokenExecutor>},
    {"BrokenThreadPool", &make<futures::BrokenThreadPool>},
    {"BrokenProcessPool", &make<futures::BrokenProcessPool>},
    {"WorkerDiedError", &make<futures::WorkerDiedError>},
    {"ProcessError", &make<multiprocessing::ProcessError>},
};

}  // namespace

SentError describe_current_error() {
  SentError sent;
  try {
    throw;
  } catch (const OSError& e) {
    sent = {e.type_name(), e.what(), true, e.errnum(), e.filename(), 0};
  } catch (const SystemExit& e) {
    sent = {e.type_name(), e.what(), true, 0, {}, e.code()};
  } catch (const futures::RemoteError& e) {
    // A nested pool's foreign error keeps its original type.
    sent = {e.remote_type(), e.what(), false, 0, {}, 0};
  } catch (const BaseException& e) {
    sent = {e.type_name(), e.what(), true, 0, {}, 0};
  } catch (const std::exception& e) {
    sent = {
        concur::detail::current_exception_type(), e.what(), false, 0, {}, 0};
  } catch (...) {
    sent = {concur::detail::current_exception_type(), {}, false, 0, {}, 0};
  }
  return sent;
}

std::exception_ptr rebuild_error(const SentError& sent) {
  if (sent.concur) {
    if (sent.type == "SystemExit") {
      return std::make_exception_ptr(SystemExit(sent.code));
    }
    if (sent.errnum != 0) return make_os_error(sent.errnum, sent.filename);
    for (const Known& known : kKnown) {
      if (known.name == sent.type) return known.factory(sent.message);
    }
  }
  return std::make_exception_ptr(futures::RemoteError(sent.type, sent.message));
}

}  // namespace concur::futures_detail
