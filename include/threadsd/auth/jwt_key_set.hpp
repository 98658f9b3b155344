#pragma once
// The keys that verify bearer tokens, read from files an operator controls: one PEM
// public key, and/or a JWKS (several keys chosen by `kid`). Each file is checked on every
// lookup (one stat) and read again when it changed, so keys rotate without a restart.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "threadsd/auth/jwt.hpp"

namespace threadsd::auth {

/// A key file that cannot be used; `what()` is one line for the operator.
class KeyFileError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The RSA key in PEM text (`-----BEGIN PUBLIC KEY-----`); throws KeyFileError when it is
/// not one, or is shorter than 2048 bits.
PublicKey parse_public_key_pem(std::string_view pem);

/// The RS256-capable RSA keys of a JWKS document (RFC 7517), by kid. Keys of other types or
/// uses, and keys without a kid, are skipped; throws KeyFileError when none is left or the
/// document is not a JWKS.
std::unordered_map<std::string, PublicKey> parse_jwks(std::string_view document);

/// The configured key files, kept current. Thread-safe.
class JwtKeySet {
  public:
    /// Reads `pem_file` and `jwks_file` (either may be ""); throws KeyFileError when a
    /// given file cannot be read or holds no usable key.
    JwtKeySet(std::string pem_file, std::string jwks_file);

    /// Reads a file again when it has changed (one stat per file); a changed file that
    /// cannot be used is logged and the keys read before stay. Call before find().
    void refresh() { reload_changed(false); }

    /// Moves whenever keys are replaced, so that a token verified before can be checked
    /// again against the keys of now.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    /// The key for `kid`. With a JWKS configured, a token with a kid needs that kid in the
    /// JWKS; the PEM key serves tokens without a kid, and any kid when there is no JWKS.
    /// Null when there is no key.
    PublicKey find(std::string_view kid);

  private:
    /// What identifies a version of a file: a change of any of these means "read again".
    struct FileStamp {
        std::uint64_t device = 0;      ///< st_dev.
        std::uint64_t inode = 0;       ///< st_ino (a file renamed over it is a new inode).
        std::int64_t modified_ns = 0;  ///< st_mtim.
        std::int64_t size = 0;         ///< st_size.
        /// Same version of the file.
        bool operator==(const FileStamp&) const = default;
    };
    /// The stamp of `path` now; a zero stamp when it cannot be stat'ed.
    static FileStamp stamp_of(const std::string& path);
    /// stamp_of(path), or a zero stamp for a file that is not configured ("").
    static FileStamp stamp_of_configured(const std::string& path);
    /// Reads whichever file changed since it was last tried; `initial` throws instead of
    /// logging.
    void reload_changed(bool initial);

    const std::string pem_file_;   ///< "" when not configured.
    const std::string jwks_file_;  ///< "" when not configured.
    std::mutex reload_mutex_;      ///< One reload at a time.
    std::shared_mutex mutex_;      ///< Readers look up keys; a reload swaps them in.
    FileStamp pem_stamp_;          ///< Of the PEM file when last tried.
    FileStamp jwks_stamp_;         ///< Of the JWKS file when last tried.
    PublicKey pem_key_;            ///< From pem_file_.
    std::unordered_map<std::string, PublicKey> jwks_keys_;  ///< From jwks_file_, by kid.
    std::atomic<std::uint64_t> generation_{0};              ///< Count of key replacements.
};

}  // namespace threadsd::auth
