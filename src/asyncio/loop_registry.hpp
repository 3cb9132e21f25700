// The loops alive in the process: a task or future can outlive its loop,
// and its last report ("Task exception was never retrieved") must not
// reach a loop that is gone.
#pragma once

#include <exception>
#include <string>

namespace concur::asyncio {
class EventLoop;
}  // namespace concur::asyncio

namespace concur::asyncio_detail {

void register_loop(const asyncio::EventLoop* loop);
void unregister_loop(const asyncio::EventLoop* loop) noexcept;
// Whether the loop still exists (not yet destroyed).
bool loop_alive(const asyncio::EventLoop* loop) noexcept;
// Calls the loop's exception handler if the loop is alive, else prints.
void report_to_loop(asyncio::EventLoop* loop, const char* message,
                    std::exception_ptr error, const std::string& object);

}  // namespace concur::asyncio_detail
