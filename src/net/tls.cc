#include "net/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace hub::net {

namespace ssl = boost::asio::ssl;

TlsContextSource::TlsContextSource(TlsFiles files)
    : files_(std::move(files)), current_(Load(files_)) {}

std::shared_ptr<ssl::context> TlsContextSource::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::string TlsContextSource::Reload() {
  try {
    auto next = Load(files_);
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(next);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::shared_ptr<ssl::context> TlsContextSource::Load(const TlsFiles& f) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  auto step = [](const std::string& what, const std::string& file, auto&& fn) {
    boost::system::error_code ec;
    fn(ec);
    if (ec) throw std::runtime_error("cannot load TLS " + what + " '" + file + "': " + ec.message());
  };
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  step("certificate", f.cert, [&](auto& ec) { ctx->use_certificate_chain_file(f.cert, ec); });
  step("key", f.key, [&](auto& ec) { ctx->use_private_key_file(f.key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("TLS key '" + f.key + "' does not match certificate '" + f.cert + "'");
  if (!f.client_ca.empty()) {
    step("client CA", f.client_ca, [&](auto& ec) { ctx->load_verify_file(f.client_ca, ec); });
    ssl::verify_mode mode = ssl::verify_peer;
    if (f.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode);
    // Ask for certificates signed by these CAs (the list sent to clients).
    SSL_CTX_set_client_CA_list(ctx->native_handle(), SSL_load_client_CA_file(f.client_ca.c_str()));
  }
  // Idle sessions give their read/write buffers back (about 34 KiB each).
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

std::vector<std::string> PeerIdentities(SSL* ssl) {
  std::vector<std::string> out;
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return out;
  auto text = [](ASN1_STRING* s) {
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, s);
    std::string v = n > 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(n)) : "";
    OPENSSL_free(utf8);
    return v;
  };
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    std::string cn = text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (!cn.empty()) out.push_back(std::move(cn));
  }
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) {
        std::string dns = text(name->d.dNSName);
        if (!dns.empty()) out.push_back(std::move(dns));
      }
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  return out;
}

}  // namespace hub::net
