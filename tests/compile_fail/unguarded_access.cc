// Must NOT compile under clang -Wthread-safety -Werror: the data is touched
// without its lock. (tests/compile_fail/check.cmake; guarded_access.cc is
// the same code done right, which must compile.)
#include "concur/annotations.hpp"
#include "concur/threading.hpp"

struct Account {
  concur::threading::Lock mu;
  long balance CONCUR_GUARDED_BY(mu) = 0;

  void deposit(long amount) { balance += amount; }
};

int main() {
  Account account;
  account.deposit(1);
}
