"""TM Forum conventions shared by every TMF resource, and one module per TMF API."""
