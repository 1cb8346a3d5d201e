"""Attachments: the files contacts carry (e-mail attachments, portal uploads, field photos), kept in
an attachment store and read under the same permissions as their contact."""
