// Must compile under clang -Wthread-safety -Werror: unguarded_access.cc
// done right, with the lock held and with Synchronized.
#include "concur/annotations.hpp"
#include "concur/synchronized.hpp"
#include "concur/threading.hpp"

struct Account {
  concur::threading::Lock mu;
  long balance CONCUR_GUARDED_BY(mu) = 0;

  void deposit(long amount) {
    concur::ScopedLock hold(mu);
    balance += amount;
  }
};

int main() {
  Account account;
  account.deposit(1);
  concur::Synchronized<long> shared{0};
  shared.with_lock([](long& b) { b += 1; });
  *shared.lock() += 1;
  return shared.copy() == 2 ? 0 : 1;
}
