using System.Text.Json.Serialization;

namespace DePin.Abstractions.Clients;

/// <summary>What an API key may do: a client runs its own jobs; an admin may also run the network (epochs, keys, metrics).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApiKeyRole>))]
public enum ApiKeyRole
{
    /// <summary>Submits, follows and cancels its own jobs; reads nodes and settlement.</summary>
    [JsonStringEnumMemberName("client")] Client = 1,

    /// <summary>Everything a client may do, on every job, plus operator actions and key management.</summary>
    [JsonStringEnumMemberName("admin")] Admin = 2,
}
