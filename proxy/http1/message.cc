// Header lookups for message heads. Linear scans: heads hold a few dozen fields at most, and a
// vector keeps order and duplicates, which a map would lose.
#include "proxy/http1/message.h"

#include <cstdint>
#include <cstring>

namespace baton::proxy::http1 {

namespace {

constexpr char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHigh = 0x8080808080808080ULL;

// `w` with each ASCII capital lowercased, eight bytes at once: the high bit of each capital's
// byte, shifted down to 0x20, is added in. On the low seven bits no byte carries into the next
// (0x7f + 0x3f < 0x100), and bytes >= 0x80 are excluded by ~w.
constexpr uint64_t lowerWord(uint64_t w) {
  const uint64_t low7 = w & ~kHigh;
  const uint64_t from_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t past_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  return w | ((from_a & ~past_z & ~w & kHigh) >> 2);
}

[[gnu::always_inline]] inline bool sameWordIgnoringCase(const char* a, const char* b) {
  uint64_t x;
  uint64_t y;
  std::memcpy(&x, a, 8);
  std::memcpy(&y, b, 8);
  return lowerWord(x) == lowerWord(y);
}

}  // namespace

// Eight bytes a step (the last word overlaps the one before it): names compared here are
// mostly 10-17 bytes ("connection", "content-length"), and a byte loop was ~12 instructions a
// byte on every response head.
bool equalsIgnoreCaseSameSize(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
    }
    return true;
  }
  for (size_t i = 0; i + 8 < n; i += 8) {
    if (!sameWordIgnoringCase(a.data() + i, b.data() + i)) return false;
  }
  return sameWordIgnoringCase(a.data() + n - 8, b.data() + n - 8);
}

namespace {

// Per thread at most 1,024 lists of at most 32 fields (64 B each): 2 MiB at worst, ~1 MiB of the
// usual 16-field lists; a bigger head's list goes back to the allocator.
constexpr size_t kStockedLists = 1024;
constexpr size_t kLargestStockedList = 32;

// Set when the thread's stock is destroyed at its exit: a list recycled later in the exit (a
// Stream owned by another thread_local) goes back to the allocator, not into a destroyed vector.
constinit thread_local bool t_stock_gone = false;

struct HeaderListStock {
  std::vector<HeaderList> lists;
  ~HeaderListStock() { t_stock_gone = true; }
};
thread_local HeaderListStock t_stock;

}  // namespace

HeaderList takeHeaderList(size_t fields) {
  HeaderList out;
  if (t_stock_gone) {
    out.reserve(fields);
    return out;
  }
  std::vector<HeaderList>& lists = t_stock.lists;
  if (!lists.empty()) {
    out = std::move(lists.back());
    lists.pop_back();
  }
  out.reserve(fields);
  return out;
}

void recycleHeaderList(HeaderList& list) {
  if (t_stock_gone) return;  // `list` frees its own storage
  std::vector<HeaderList>& lists = t_stock.lists;
  if (list.capacity() == 0 || list.capacity() > kLargestStockedList ||
      lists.size() >= kStockedLists) {
    return;
  }
  list.clear();
  if (lists.capacity() == 0) lists.reserve(kStockedLists);
  lists.push_back(std::move(list));
  list = HeaderList{};
}

const std::string* findHeader(const HeaderList& headers, std::string_view name) {
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) return &field.value;
  }
  return nullptr;
}

size_t countHeader(const HeaderList& headers, std::string_view name) {
  size_t n = 0;
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) ++n;
  }
  return n;
}

}  // namespace baton::proxy::http1
