// Header lookups for message heads. Linear scans: heads hold a few dozen fields at most, and a
// vector keeps order and duplicates, which a map would lose.
#include "proxy/http1/message.h"

namespace baton::proxy::http1 {

namespace {

constexpr char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

bool equalsIgnoreCaseSameSize(std::string_view a, std::string_view b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
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
