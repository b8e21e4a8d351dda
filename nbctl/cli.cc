#include "nbctl/cli.h"

#include <functional>
#include <memory>

#include "CLI/CLI.hpp"
#include "boost/url/parse.hpp"
#include "nbctl/client_commands.h"
#include "nbctl/ws_commands.h"

namespace nb::nbctl {
namespace {

constexpr char kExitCodes[] =
    "Exit status: 0 done, 1 the command failed, 2 the command line is wrong.";

// Checks a duration such as 90s, 30m, 12h or 7d.
const CLI::Validator kDuration(
    [](std::string& text) -> std::string {
      absl::StatusOr<int64_t> seconds = ParseDurationSeconds(text);
      return seconds.ok() ? "" : std::string(seconds.status().message());
    },
    "DURATION", "");

// Checks a ws://HOST[:PORT] address.
const CLI::Validator kWsUrl(
    [](std::string& text) -> std::string {
      boost::system::result<boost::urls::url_view> url = boost::urls::parse_uri(text);
      if (url && url->scheme() == "ws" && !url->host().empty()) return "";
      return "'" + text + "' is not ws://HOST:PORT";
    },
    "URL", "");

// Adds --operations/--all-products/--products/--devices to `command`.
struct PermissionFlags {
  CLI::Option* operations = nullptr;
  CLI::Option* all_products = nullptr;
  CLI::Option* products = nullptr;
  CLI::Option* devices = nullptr;

  PermissionFlags(CLI::App& command, PermissionOptions& options) {
    operations = command
                     .add_option("--operations", options.operations,
                                 "What the client may do, comma-separated (default read,events)")
                     ->delimiter(',')
                     ->check(CLI::IsMember({"read", "write", "invoke", "events"}));
    all_products = command.add_flag("--all-products", options.all_products,
                                    "Every product, present and future");
    products = command.add_option("--products", options.products, "Product keys, comma-separated")
                   ->delimiter(',')
                   ->excludes(all_products);
    devices = command
                  .add_option("--devices", options.devices,
                              "Limit the products to these device keys, comma-separated")
                  ->delimiter(',')
                  ->needs(products);
  }
  bool Given() const { return operations->count() + all_products->count() + products->count() > 0; }
  bool ScopeGiven() const { return all_products->count() + products->count() > 0; }
};

// The state of one parse: what the options are written into, and the command chosen.
class Cli {
 public:
  Cli() : app_("The operator's command line for Northbound.", "nbctl") {
    app_.footer(kExitCodes);
    app_.require_subcommand(1);
    // Set before the subcommands are added so that they inherit it: an option of a parent
    // (--auth, --token ...) may also follow its subcommands.
    app_.fallthrough();
    app_.add_option("--auth", admin_.auth, "auth-service address (client commands)")
        ->capture_default_str();
    app_.add_option("--admin-token-file", admin_.admin_token_file,
                    "File holding the admin credential (else NB_ADMIN_TOKEN)")
        ->check(CLI::ExistingFile);
    auto* tls_ca = app_.add_option("--tls-ca", admin_.tls.ca_file,
                                   "CA of auth-service's certificate: use TLS (client commands)")
                       ->check(CLI::ExistingFile);
    auto* tls_cert = app_.add_option("--tls-cert", admin_.tls.cert_file,
                                     "Client certificate for auth-service's mTLS")
                         ->check(CLI::ExistingFile)
                         ->needs(tls_ca);
    app_.add_option("--tls-key", admin_.tls.key_file, "Private key of --tls-cert")
        ->check(CLI::ExistingFile)
        ->needs(tls_cert);
    tls_cert->needs(app_.get_option("--tls-key"));
    AddClient();
    AddWs();
  }

  int Run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
          std::ostream& err) {
    in_ = &in;
    out_ = &out;
    err_ = &err;
    // CLI11 takes the words last first.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app_.parse(reversed);
    } catch (const CLI::CallForHelp&) {
      out << app_.help();
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      out << app_.help("", CLI::AppFormatMode::All);
      return 0;
    } catch (const CLI::ParseError& error) {
      return Usage(error.what());
    }
    if (!command_) return Usage("no command");
    return command_();
  }

 private:
  int Usage(const std::string& message) {
    *err_ << "nbctl: " << message << "\nRun with --help for more information.\n";
    return 2;
  }

  void AddClient() {
    CLI::App& client = *app_.add_subcommand("client", "Manage northbound clients and tokens");
    client.require_subcommand(1);

    CLI::App& create = *client.add_subcommand("create", "Create a client; prints its token once");
    create.add_option("--name", create_.name, "A name for people")->required();
    PermissionFlags* create_scope =
        scopes_.emplace_back(std::make_unique<PermissionFlags>(create, create_.permissions)).get();
    create.add_option("--expires-in", expires_in_, "Lifetime such as 30d, 12h")->check(kDuration);
    create.callback([this, create_scope] {
      if (!create_scope->ScopeGiven()) {
        throw CLI::RequiredError("name the products: --products P1,P2 or --all-products");
      }
      command_ = [this] {
        if (!expires_in_.empty()) create_.expires_in_seconds = *ParseDurationSeconds(expires_in_);
        return CreateClient(admin_, create_, *out_, *err_);
      };
    });

    client.add_subcommand("list", "List every client (never their tokens)")->callback([this] {
      command_ = [this] { return ListClients(admin_, *out_, *err_); };
    });

    AddIdCommand(client, "get", "Show one client", GetClient);
    AddIdCommand(client, "revoke", "Revoke a client's token at once", RevokeClient);
    AddIdCommand(client, "rotate", "Issue a new token; the old one stops working", RotateToken);
    AddIdCommand(client, "delete", "Delete a client", DeleteClient);

    CLI::App& update = *client.add_subcommand("update", "Change a client; only what is given");
    update.add_option("ID", update_.id, "Client id")->required();
    CLI::Option* name = update.add_option("--name", update_name_, "A new name");
    CLI::Option* enable = update.add_flag("--enable")->description("Enable the client");
    CLI::Option* disable =
        update.add_flag("--disable")->description("Disable the client")->excludes(enable);
    PermissionFlags* update_scope =
        scopes_.emplace_back(std::make_unique<PermissionFlags>(update, update_permissions_)).get();
    update.add_option("--expires-in", expires_in_, "Lifetime from now such as 30d")
        ->check(kDuration);
    update.callback([this, name, enable, disable, update_scope] {
      if (update_scope->Given() && !update_scope->ScopeGiven()) {
        throw CLI::RequiredError(
            "new permissions name the products: --products P1,P2 or --all-products");
      }
      if (name->count() > 0) update_.name = update_name_;
      if (enable->count() + disable->count() > 0) update_.enabled = enable->count() > 0;
      if (update_scope->Given()) update_.permissions = update_permissions_;
      command_ = [this] {
        if (!expires_in_.empty()) update_.expires_in_seconds = *ParseDurationSeconds(expires_in_);
        return UpdateClient(admin_, update_, *out_, *err_);
      };
    });
  }

  using IdCommand = int (*)(const AdminConnection&, const std::string&, std::ostream&,
                            std::ostream&);
  void AddIdCommand(CLI::App& client, const std::string& name, const std::string& description,
                    IdCommand run) {
    CLI::App& command = *client.add_subcommand(name, description);
    command.add_option("ID", id_, "Client id")->required();
    command.callback(
        [this, run] { command_ = [this, run] { return run(admin_, id_, *out_, *err_); }; });
  }

  void AddWs() {
    CLI::App& ws = *app_.add_subcommand(
        "ws", "A WebSocket client: `ws sub TOPIC ...`, or `ws` alone to type frames");
    ws.require_subcommand(0, 1);
    ws.add_option("--url", ws_.url, "ws://HOST:PORT of ws-frontend")
        ->capture_default_str()
        ->check(kWsUrl);
    ws.add_option("--token", ws_.token, "Client token")->envname("NB_TOKEN");

    CLI::App& sub = *ws.add_subcommand(
        "sub",
        "Send one sub and print the answers; a command ends with its complete, an "
        "event topic runs until Ctrl-C or --count results");
    sub.add_option("TOPIC", sub_.topic, "/device-message-sender/... or /device/...")->required();
    CLI::Option* read =
        sub.add_option("--read", sub_.read, "Read these properties, comma-separated")
            ->delimiter(',');
    CLI::Option* write =
        sub.add_option("--write", sub_.write,
                       "Write NAME=VALUE,...; values are JSON when they parse as JSON")
            ->delimiter(',')
            ->excludes(read);
    CLI::Option* invoke = sub.add_option("--invoke", sub_.invoke, "Invoke this function")
                              ->excludes(read)
                              ->excludes(write);
    sub.add_option("--input", sub_.inputs, "Function inputs NAME=VALUE,...")
        ->delimiter(',')
        ->needs(invoke);
    sub.add_flag("--async", sub_.async, "Answer once the device accepted the command");
    sub.add_option("--timeout", sub_.timeout_ms, "Per-device wait in ms (100..60000)")
        ->check(CLI::Range(100, 60000));
    sub.add_option("--id", sub_.id, "The sub's id")->capture_default_str();
    sub.add_option("--count", sub_.count, "Stop after this many results")
        ->check(CLI::NonNegativeNumber);
    sub.callback([this] {
      command_ = [this] { return RequireToken() ? RunWsSub(ws_, sub_, *out_, *err_) : 2; };
    });
    ws.callback([this, &ws] {
      if (ws.get_subcommands().empty()) {
        command_ = [this] {
          return RequireToken() ? RunWsInteractive(ws_, *in_, *out_, *err_) : 2;
        };
      }
    });
  }

  bool RequireToken() {
    if (!ws_.token.empty()) return true;
    Usage("no token: pass --token or set NB_TOKEN");
    return false;
  }

  CLI::App app_;
  AdminConnection admin_;
  CreateOptions create_;
  UpdateOptions update_;
  std::string update_name_;
  PermissionOptions update_permissions_;
  std::string expires_in_;
  std::string id_;
  WsConnection ws_;
  SubOptions sub_;
  std::vector<std::unique_ptr<PermissionFlags>> scopes_;
  std::function<int()> command_;
  std::istream* in_ = nullptr;
  std::ostream* out_ = nullptr;
  std::ostream* err_ = nullptr;
};

}  // namespace

int RunNbctl(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
             std::ostream& err) {
  Cli cli;
  return cli.Run(args, in, out, err);
}

}  // namespace nb::nbctl
