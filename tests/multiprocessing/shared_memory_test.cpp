// multiprocessing.shared_memory.SharedMemory, after CPython's
// _test_multiprocessing.py (_TestSharedMemory): create, attach by name from
// this and from a child process, the errors Python raises, 0600, and
// nothing left in /dev/shm.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "multiprocessing/child.hpp"

namespace {

namespace mp = concur::multiprocessing;
using concur_test::ExpectInChild;
using mp::shared_memory::SharedMemory;

bool InDevShm(const std::string& name) {
  return std::filesystem::exists("/dev/shm/" + name);
}

// A name of this test process's own, so that runs never collide.
std::string TestName(const char* what) {
  return "concur_test_" + std::to_string(::getpid()) + "_" + what;
}

template <class Error, class Call>
void ExpectMessage(Call call, const char* message) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), message);
  }
}

TEST(SharedMemory, CreateAttachAndUnlink) {
  SharedMemory shm({.create = true, .size = 4096});
  EXPECT_EQ(shm.name().rfind("psm_", 0), 0u) << shm.name();
  EXPECT_EQ(shm.name().size(), 4u + 32u);
  EXPECT_EQ(shm.size(), 4096u);
  ASSERT_EQ(shm.buf().size(), 4096u);
  for (std::byte b : shm.buf()) ASSERT_EQ(b, std::byte{0});
  std::memcpy(shm.buf().data(), "howdy", 5);
  EXPECT_TRUE(InDevShm(shm.name()));

  SharedMemory same(shm.name());
  EXPECT_EQ(same.size(), 4096u);
  EXPECT_EQ(std::memcmp(same.buf().data(), "howdy", 5), 0);
  same.buf()[0] = std::byte{'H'};
  EXPECT_EQ(shm.buf()[0], std::byte{'H'});
  // With the leading slash too.
  SharedMemory slashed("/" + shm.name());
  EXPECT_EQ(slashed.buf()[1], std::byte{'o'});

  shm.unlink();
  EXPECT_FALSE(InDevShm(shm.name()));
  // Still mapped where it was attached.
  EXPECT_EQ(same.buf()[0], std::byte{'H'});
  EXPECT_THROW(shm.unlink(), concur::FileNotFoundError);
  EXPECT_THROW(SharedMemory{shm.name()}, concur::FileNotFoundError);
}

TEST(SharedMemory, CreatedForTheOwnerOnly) {
  SharedMemory shm({.create = true, .size = 10});
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + shm.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  shm.unlink();
}

TEST(SharedMemory, NamedCreateAndExisting) {
  const std::string name = TestName("named");
  SharedMemory shm(name, true, 100);
  EXPECT_EQ(shm.name(), name);
  EXPECT_THROW(SharedMemory(name, true, 100), concur::FileExistsError);
  try {
    SharedMemory again(name, true, 100);
  } catch (const concur::FileExistsError& e) {
    EXPECT_EQ(e.errnum(), EEXIST);
    EXPECT_EQ(e.filename(), "/" + name);
  }
  shm.unlink();
  EXPECT_FALSE(InDevShm(name));
}

TEST(SharedMemory, BadArguments) {
  ExpectMessage<concur::ValueError>(
      [] { SharedMemory shm({.create = true, .size = 0}); },
      "'size' must be a positive number different from zero");
  ExpectMessage<concur::ValueError>(
      [] { SharedMemory shm({.create = true, .size = -1}); },
      "'size' must be a positive integer");
  ExpectMessage<concur::ValueError>(
      [] { SharedMemory shm(mp::shared_memory::SharedMemoryOptions{}); },
      "'name' can only be None if create=True");
  EXPECT_THROW(SharedMemory(TestName("missing")), concur::FileNotFoundError);
  // Attaching to an empty segment cannot map it.
  const std::string name = TestName("empty");
  const int fd =
      ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ExpectMessage<concur::ValueError>([&] { SharedMemory shm(name); },
                                    "cannot mmap an empty file");
  ::shm_unlink(("/" + name).c_str());
  EXPECT_FALSE(InDevShm(name));
}

TEST(SharedMemory, UseAfterClose) {
  SharedMemory shm({.create = true, .size = 64});
  const std::string name = shm.name();
  shm.close();
  shm.close();  // harmless
  EXPECT_THROW(static_cast<void>(shm.buf()), concur::ValueError);
  EXPECT_EQ(shm.name(), name);
  EXPECT_EQ(shm.size(), 64u);
  shm.unlink();  // works after close, as in Python
  EXPECT_FALSE(InDevShm(name));
}

TEST(SharedMemory, Moves) {
  SharedMemory a({.create = true, .size = 16});
  a.buf()[3] = std::byte{42};
  SharedMemory b = std::move(a);
  EXPECT_EQ(b.buf()[3], std::byte{42});
  EXPECT_THROW(static_cast<void>(a.buf()), concur::ValueError);  // NOLINT
  b.unlink();
}

TEST(SharedMemory, ChildAttachesByNameAndWrites) {
  SharedMemory shm({.create = true, .size = 1 << 16});
  const std::string name = shm.name();
  mp::Process p([name] {
    SharedMemory mine(name);
    if (mine.size() != (1u << 16)) concur::sys::exit(2);
    for (std::size_t i = 0; i < mine.size(); ++i) {
      mine.buf()[i] = static_cast<std::byte>(i % 251);
    }
    mine.close();
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  bool all = true;
  for (std::size_t i = 0; i < shm.size(); ++i) {
    all = all && shm.buf()[i] == static_cast<std::byte>(i % 251);
  }
  EXPECT_TRUE(all);
  // The child may unlink what the parent made.
  ExpectInChild([name] {
    SharedMemory(name).unlink();
    return true;
  });
  EXPECT_FALSE(InDevShm(name));
  EXPECT_FALSE(concur_test::HasUnreapedChildren());
}

TEST(SharedMemory, NamesAreDistinct) {
  SharedMemory a({.create = true, .size = 1});
  SharedMemory b({.create = true, .size = 1});
  EXPECT_NE(a.name(), b.name());
  a.unlink();
  b.unlink();
}

}  // namespace
