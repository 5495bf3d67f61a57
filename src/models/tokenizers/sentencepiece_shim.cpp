// A small C interface to libsentencepiece, built as its own shared module and
// dlopen()ed with RTLD_LOCAL | RTLD_DEEPBIND by sentencepiece.cpp. Debian's
// libsentencepiece bundles (and exports) its own protobuf-lite, which clashes
// with the libprotobuf that libtorch loads: in one global symbol scope the
// process crashes at start-up. Loaded this way, each keeps its own copy.
#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
void set_error(char* err, int len, const std::string& msg) {
  if (err && len > 0) {
    std::strncpy(err, msg.c_str(), static_cast<std::size_t>(len - 1));
    err[len - 1] = '\0';
  }
}
}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* jb_spm_load(const char* path, char* err, int err_len) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto status = sp->Load(path);
  if (!status.ok()) {
    set_error(err, err_len, status.ToString());
    delete sp;
    return nullptr;
  }
  return sp;
}

__attribute__((visibility("default"))) void jb_spm_destroy(void* h) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(h);
}

// Returns the number of ids written to *out (malloc'ed; free with jb_spm_free), or -1.
__attribute__((visibility("default"))) int jb_spm_encode(void* h, const char* text, int len, int** out) {
  std::vector<int> ids;
  const auto status =
      static_cast<sentencepiece::SentencePieceProcessor*>(h)->Encode(std::string(text, static_cast<std::size_t>(len)), &ids);
  if (!status.ok()) return -1;
  *out = static_cast<int*>(std::malloc(sizeof(int) * (ids.empty() ? 1 : ids.size())));
  std::memcpy(*out, ids.data(), sizeof(int) * ids.size());
  return static_cast<int>(ids.size());
}

// Returns the length of the text written to *out (malloc'ed), or -1.
__attribute__((visibility("default"))) int jb_spm_decode(void* h, const int* ids, int n, char** out) {
  std::string text;
  const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(h)->Decode(
      std::vector<int>(ids, ids + n), &text);
  if (!status.ok()) return -1;
  *out = static_cast<char*>(std::malloc(text.size() + 1));
  std::memcpy(*out, text.c_str(), text.size() + 1);
  return static_cast<int>(text.size());
}

__attribute__((visibility("default"))) void jb_spm_free(void* p) { std::free(p); }

__attribute__((visibility("default"))) int jb_spm_piece_size(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetPieceSize();
}

// The id of `piece`, or -1 when it is not in the vocabulary.
__attribute__((visibility("default"))) int jb_spm_piece_to_id(void* h, const char* piece) {
  auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(h);
  const int id = sp->PieceToId(piece);
  if (id == sp->unk_id() && sp->IdToPiece(id) != piece) return -1;
  return id;
}

__attribute__((visibility("default"))) int jb_spm_is_control(void* h, int id) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->IsControl(id) ? 1 : 0;
}
}
