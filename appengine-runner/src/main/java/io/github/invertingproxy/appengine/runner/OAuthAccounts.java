package io.github.invertingproxy.appengine.runner;

import static java.util.Objects.requireNonNull;

import com.google.apphosting.api.ApiProxy;
import com.google.apphosting.api.UserServicePb;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;

/**
 * The OAuth half of the Users service, per request: the stock stub answers every caller with one
 * configured account, whatever token it sent. This delegate answers {@code GetOAuthUser} from a
 * token-to-account mapping instead, and refuses unknown or missing tokens as the real service
 * does (so {@code OAuthService} throws {@code OAuthRequestException}). Every other call passes
 * through to the stubs.
 */
final class OAuthAccounts implements ApiProxy.Delegate<ApiProxy.Environment> {
  /** An account a bearer token stands for. */
  record Account(String email, boolean admin) {
    Account {
      requireNonNull(email, "email");
    }
  }

  private final ApiProxy.Delegate<ApiProxy.Environment> stubs;
  private final Map<String, Account> byToken = new ConcurrentHashMap<>();

  OAuthAccounts(ApiProxy.Delegate<ApiProxy.Environment> stubs) {
    this.stubs = requireNonNull(stubs, "stubs");
  }

  void put(String token, Account account) {
    requireNonNull(token, "token");
    if (token.isEmpty() || token.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("a bearer token must be non-empty and without white space");
    }
    byToken.put(token, requireNonNull(account, "account"));
  }

  @Override
  public byte[] makeSyncCall(ApiProxy.Environment environment, String service, String method, byte[] request) {
    if ("user".equals(service) && "GetOAuthUser".equals(method)) {
      return oauthUser(environment, request);
    }
    return stubs.makeSyncCall(environment, service, method, request);
  }

  @Override
  public Future<byte[]> makeAsyncCall(ApiProxy.Environment environment, String service, String method, byte[] request,
      ApiProxy.ApiConfig config) {
    if ("user".equals(service) && "GetOAuthUser".equals(method)) {
      return java.util.concurrent.CompletableFuture.completedFuture(oauthUser(environment, request));
    }
    return stubs.makeAsyncCall(environment, service, method, request, config);
  }

  @Override
  public void log(ApiProxy.Environment environment, ApiProxy.LogRecord record) {
    stubs.log(environment, record);
  }

  @Override
  public void flushLogs(ApiProxy.Environment environment) {
    stubs.flushLogs(environment);
  }

  @Override
  public List<Thread> getRequestThreads(ApiProxy.Environment environment) {
    return stubs.getRequestThreads(environment);
  }

  private byte[] oauthUser(ApiProxy.Environment environment, byte[] request) {
    Object token = environment == null ? null : environment.getAttributes().get(RequestEnvironment.BEARER_TOKEN_ATTRIBUTE);
    Account account = token == null ? null : byToken.get(token.toString());
    if (account == null) {
      throw new ApiProxy.ApplicationException(UserServicePb.UserServiceError.ErrorCode.OAUTH_INVALID_TOKEN_VALUE,
          token == null ? "no bearer token" : "unknown bearer token");
    }
    return UserServicePb.GetOAuthUserResponse.newBuilder()
        .setEmail(account.email())
        .setUserId(Integer.toUnsignedString(account.email().hashCode()))
        .setAuthDomain(RequestEnvironment.AUTH_DOMAIN)
        .setIsAdmin(account.admin())
        .build()
        .toByteArray();
  }
}
