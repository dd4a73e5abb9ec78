using System.Net.Http.Json;
using System.Text.Json;
using DePin.Silo.Api;

namespace DePin.Tests.Infrastructure;

/// <summary>JSON helpers using the API's own conventions.</summary>
public static class ApiJson
{
    /// <summary>The API's serializer options.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>POSTs a job request.</summary>
    public static Task<HttpResponseMessage> PostJobAsync(this HttpClient http, object body) =>
        http.PostAsJsonAsync("/jobs", body, Options);

    /// <summary>Reads a JSON body.</summary>
    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Options))!;

    /// <summary>GETs and deserialises.</summary>
    public static async Task<T> GetAsync<T>(this HttpClient http, string path) =>
        (await http.GetFromJsonAsync<T>(path, Options))!;

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        DePinApi.ConfigureJson(options);
        return options;
    }
}
