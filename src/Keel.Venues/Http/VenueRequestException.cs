using System.Net;

namespace Keel.Venues.Http;

/// <summary>A venue REST request failed in a way retrying will not fix; the message names the venue, request and reason.</summary>
public sealed class VenueRequestException : Exception
{
    public VenueRequestException(string message, HttpStatusCode? status = null, Exception? inner = null)
        : base(message, inner)
    {
        Status = status;
    }

    public VenueRequestException()
    {
    }

    public VenueRequestException(string message)
        : base(message)
    {
    }

    public VenueRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HttpStatusCode? Status { get; }
}
