// courier — a courier coroutine that a package centre drives with send(),
// and the states it goes through.
//
// Ports seed 001's two versions of:
//
//     def build_deliver_man(man_id):
//         total = 0
//         while True:
//             total += 1
//             print('%d号快递员准备接今天的第%d单.' % (man_id, total))
//             pkg = yield
//             print('%d号快递员收到编号为%s的包裹.' % (man_id, pkg))
//             sleep(0.5)
//
//     def package_center(deliver_man, max_per_day):
//         print(getgeneratorstate(deliver_man))      # GEN_CREATED
//         deliver_man.send(None)
//         print(getgeneratorstate(deliver_man))      # GEN_SUSPENDED
//         while num <= max_per_day:
//             deliver_man.send('PKG-%d' % num)
//         deliver_man.close()
//         print(getgeneratorstate(deliver_man))      # GEN_CLOSED
//
// `pkg = yield` is a co_yield whose value is what send() passes in: the
// generator yields nothing (a std::monostate) and receives a std::string,
// an empty optional when started with next(), as Python's None.
#include <optional>
#include <string>
#include <variant>

#include "concur/generator.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::Generator;

Generator<std::monostate, std::string> build_deliver_man(int man_id) {
  for (int total = 1;; ++total) {
    tour::print("courier %d: ready for today's package %d\n", man_id, total);
    const std::optional<std::string> pkg = co_yield std::monostate{};
    tour::print("courier %d: got package %s\n", man_id,
                pkg.value_or("None").c_str());
    tour::sleep(500ms);
  }
}

void package_center(Generator<std::monostate, std::string>& deliver_man,
                    int max_per_day) {
  tour::print("%s\n", concur::state_name(deliver_man.state()));
  deliver_man.next();  // deliver_man.send(None)
  tour::print("%s\n", concur::state_name(deliver_man.state()));
  for (int num = 1; num <= max_per_day; ++num) {
    deliver_man.send("PKG-" + std::to_string(num));
  }
  deliver_man.close();
  tour::print("%s\n", concur::state_name(deliver_man.state()));
  tour::print("all of today's packages are delivered\n");
}

int main() {
  auto dm = build_deliver_man(1);
  package_center(dm, 10);
}
