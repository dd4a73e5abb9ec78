using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace DePin.Silo.NodeGateway;

/// <summary>
/// Node session tokens: short-lived JWTs (HMAC-SHA256) issued after a signed login, validated by ASP.NET Core's
/// JwtBearer handler under the <see cref="Scheme"/> scheme. Claims: <c>sub</c> = node key address, <c>nid</c> = each
/// of the agent's node ids (so a token is only good for its own devices).
/// </summary>
public sealed class NodeTokens
{
    /// <summary>Authentication scheme of node calls.</summary>
    public const string Scheme = "NodeToken";
    /// <summary>Authorization policy of node calls.</summary>
    public const string Policy = "node";
    /// <summary>Claim type carrying a node id.</summary>
    public const string NodeIdClaim = "nid";
    private const string Issuer = "depin";
    private const string Audience = "depin-node";

    private readonly SymmetricSecurityKey _key;
    private readonly NodeGatewayOptions _options;
    private readonly TimeProvider _clock;

    /// <summary>Loads the key from <c>NodeGateway:TokenKey</c>, or makes a random one for this process.</summary>
    public NodeTokens(IOptions<NodeGatewayOptions> options, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
        _key = new SymmetricSecurityKey(string.IsNullOrEmpty(_options.TokenKey)
            ? RandomNumberGenerator.GetBytes(32)
            : Convert.FromBase64String(_options.TokenKey));
    }

    /// <summary>Issues a token for <paramref name="nodeAddress"/>'s devices.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(string nodeAddress, IReadOnlyList<string> nodeIds)
    {
        var now = _clock.GetUtcNow();
        var expires = now + _options.TokenLifetime;
        var claims = new List<Claim> { new(JwtRegisteredClaimNames.Sub, nodeAddress) };
        claims.AddRange(nodeIds.Select(id => new Claim(NodeIdClaim, id)));
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    /// <summary>JwtBearer settings that accept exactly the tokens <see cref="Issue"/> makes.</summary>
    public void Configure(JwtBearerOptions options)
    {
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            NameClaimType = JwtRegisteredClaimNames.Sub,
        };
    }

    /// <summary>True when the caller's token covers <paramref name="nodeId"/>.</summary>
    public static bool Owns(ClaimsPrincipal user, string? nodeId) =>
        nodeId is not null && user.FindAll(NodeIdClaim).Any(c => c.Value == nodeId);
}
