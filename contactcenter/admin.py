from django.contrib import admin

from contactcenter.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["application", "scopes", "created_at"]
    search_fields = ["application__name", "application__client_id"]
    readonly_fields = ["application", "created_at", "modified_at"]

    def has_add_permission(self, request):
        # Clients are made with `manage.py create_api_client`, which prints the secret once.
        return False
