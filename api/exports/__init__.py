"""The export formats: spreadsheets (XLSX, CSV), iCalendar, printable HTML, the Sofia-FMO zip.

The rows come from ``workflow.reads.reports``; these modules only lay them out, in French
(headers, Europe/Paris dates, decimal commas). They live at the edge because the format
libraries (openpyxl, icalendar, Jinja2) are the edge's business, not the domain's.
"""
