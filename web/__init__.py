"""The web process: staff review pages, the hospitals' JSON API (and the patient page).

Sanic, which Rasa already installs at a pinned version. The logic lives in the core
package (prescreen.staff.review, prescreen.staff.accounts); these modules only translate HTTP.
"""
