#pragma once

// TLS for the scanner and HTTP ports (OpenSSL through Asio). Certificates and
// keys come from PEM files named in the configuration; Reload() reads them
// again (hubd calls it on SIGHUP) and only connections accepted afterwards
// use the new ones: a session keeps the context it started with.
//
// Thread safety: TlsContextSource::Current() and Reload() from any thread.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

typedef struct ssl_st SSL;

namespace hub::net {

struct TlsFiles {
  std::string cert;       // PEM certificate chain; empty: TLS off
  std::string key;        // PEM private key
  // PEM bundle of CAs that sign client certificates; set: clients may (or,
  // with require_client_cert, must) present a certificate, verified against
  // it. Scanner port only.
  std::string client_ca;
  bool require_client_cert = false;

  bool enabled() const { return !cert.empty(); }
};

class TlsContextSource {
 public:
  // Loads the files; throws std::runtime_error naming the file that failed.
  explicit TlsContextSource(TlsFiles files);

  // The context for a connection accepted now. Never null.
  std::shared_ptr<boost::asio::ssl::context> Current() const;
  // Reads the files again. On failure keeps the current context and returns
  // the reason; empty on success.
  std::string Reload();
  const TlsFiles& files() const { return files_; }

 private:
  static std::shared_ptr<boost::asio::ssl::context> Load(const TlsFiles& files);

  const TlsFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // GUARDED_BY(mu_)
};

// The identities a verified client certificate vouches for: its subject's
// common name and its DNS subject alternative names. Empty when the peer
// presented no certificate or it did not verify.
std::vector<std::string> PeerIdentities(SSL* ssl);

}  // namespace hub::net
